#ifndef SMPPSCOPE_CHINTS_H
#define SMPPSCOPE_CHINTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

/// Asks the processor to start loading the cache line at `address`, for a read soon. Never faults; changes no
/// result, only when the memory arrives.
static inline void chints_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks the kernel to back the whole 2 MiB pages inside `[address, address + length)` with huge pages when they
/// are first touched (transparent huge pages in "madvise" mode): one TLB entry then covers 2 MiB, and random
/// lookups in a large table stop missing the TLB. Changes no content; ignored where unsupported.
static inline void chints_advise_huge_pages(void *address, size_t length) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)address + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)address + length) & ~(huge - 1);
    if (end > start) {
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
#else
    (void)address;
    (void)length;
#endif
}

#endif
