#ifndef TICKETBENCH_CZLIB_SHIM_H
#define TICKETBENCH_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro in zlib.h; Swift cannot call macros, so wrap it.
static inline int ticket_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
// deflateInit2 is a macro too; tests use it to make gzip fixtures.
static inline int ticket_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
