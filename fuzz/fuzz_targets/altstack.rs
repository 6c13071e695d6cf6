//! Let libFuzzer's SIGSEGV handler run on a stack overflow, so a crashing
//! input is written to `artifacts/` instead of the process just dying:
//! give the thread an alternate signal stack and re-register the handler
//! that libFuzzer installed with `SA_ONSTACK` (Linux x86-64 glibc layout).

use std::sync::Once;

#[repr(C)]
struct SigAction {
    handler: usize,
    mask: [u64; 16],
    flags: i32,
    restorer: usize,
}

#[repr(C)]
struct StackT {
    sp: *mut u8,
    flags: i32,
    size: usize,
}

unsafe extern "C" {
    fn sigaction(sig: i32, act: *const SigAction, old: *mut SigAction) -> i32;
    fn sigaltstack(ss: *const StackT, old: *mut StackT) -> i32;
}

const SA_ONSTACK: i32 = 0x0800_0000;
const SIGBUS: i32 = 7;
const SIGSEGV: i32 = 11;

pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| unsafe {
        let size = 1 << 20;
        let stack = Box::leak(vec![0u8; size].into_boxed_slice());
        let ss = StackT {
            sp: stack.as_mut_ptr(),
            flags: 0,
            size,
        };
        if sigaltstack(&ss, std::ptr::null_mut()) != 0 {
            return;
        }
        for sig in [SIGSEGV, SIGBUS] {
            let mut old = std::mem::zeroed::<SigAction>();
            if sigaction(sig, std::ptr::null(), &mut old) == 0 && old.handler > 1 {
                old.flags |= SA_ONSTACK;
                sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    });
}
