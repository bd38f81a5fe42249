// What the compiler may assume about the CPU it compiles for, as constants
// Swift can read. Swift has no `#if` on target features, but the Clang
// importer compiles this header with the same `-target-cpu` as the Swift
// module that imports it (`native` from Package.swift, `haswell` in the
// callgrind build), so the constants follow the instruction set the code
// is generated for and fold away at compile time.
#ifndef TICKET_TARGET_FEATURES_H
#define TICKET_TARGET_FEATURES_H

#if defined(__AVX512F__)
// 32 vector registers of 512 bits.
#define TICKET_VECTOR_BITS 512
#elif defined(__AVX__) || defined(__ARM_NEON)
// 16 registers of 256 bits (AVX2), or 32 of 128 bits (NEON): a SIMD16<Float>
// takes two or four of them.
#define TICKET_VECTOR_BITS 256
#else
#define TICKET_VECTOR_BITS 128
#endif

#endif
