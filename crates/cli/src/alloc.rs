//! The global allocator: mimalloc.
//!
//! The pipeline allocates many small, short-lived objects across threads;
//! glibc's allocator was over a third of the CPU time in the PostgreSQL
//! drain benchmark (docs/benchmarks.md). The `mimalloc` crate's allocator
//! calls mimalloc's *aligned* entry points for every allocation, and those
//! take a slow path (over-allocate, then align) for blocks over 128 bytes —
//! ~200 instructions per allocation, 2 % of a snapshot's CPU. mimalloc's
//! plain `mi_malloc` already returns blocks aligned to 16 bytes (or to their
//! size when smaller), so the aligned calls are kept for larger alignments.

// The `GlobalAlloc` trait is unsafe to implement; these are direct calls
// into mimalloc with the contract spelled out on each.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block has (mimalloc's `MI_MAX_ALIGN_SIZE`
/// on 64-bit targets), for blocks at least that large.
const MIN_ALIGN: usize = 16;

/// Whether `mi_malloc(layout.size())` is aligned enough for `layout`.
#[inline(always)]
fn plain(layout: &Layout) -> bool {
    layout.align() <= MIN_ALIGN && layout.align() <= layout.size()
}

pub struct MiMalloc;

// SAFETY: every method forwards to the mimalloc function with the same
// contract (size, alignment, and a pointer this allocator returned);
// `mi_free` and `mi_realloc*` accept blocks from either entry point.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN && layout.align() <= new_size {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_for_their_layouts() {
        let a = MiMalloc;
        for size in [1usize, 7, 8, 15, 16, 17, 24, 100, 129, 1000, 5000, 1 << 20] {
            for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xAB, size);
                    let q = a.realloc(p, layout, size * 3);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0, "realloc size {size} align {align}");
                    assert_eq!(*q, 0xAB);
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|b| *b == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
