#include <cblas.h>
// Declared by OpenBLAS's cblas.h; repeated so the shim states what it needs.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
