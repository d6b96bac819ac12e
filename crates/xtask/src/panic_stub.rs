//! Panics without their formatting machinery, on rustup's prebuilt `std`.
//!
//! The SDK's release build uses `panic = "abort"`: on wasm32 a panic ends
//! in a trap (`RuntimeError: unreachable`), and the message it formats
//! first goes nowhere (`std` has no stderr on `wasm32-unknown-unknown`).
//! Yet that formatting keeps `core::fmt`'s engine, `Debug` impls, Unicode
//! tables and panic payload code in the bundle: 4.5 KB gzipped. Rust's
//! `panic=immediate-abort` drops them but needs `std` built from source
//! (the Debian route, [`crate::wasm`]); rustup's `std` is prebuilt.
//!
//! So, on the linked `.wasm` before wasm-bindgen, the bodies of `core`'s
//! panic entry points ([`ENTRY_POINTS`]) become a single `unreachable`:
//! a panic traps at once, as it did after formatting, and wasm-opt then
//! drops everything only the formatting used. Functions are found by name
//! in the `name` section that rustc writes into the linked module; finding
//! none is an error, so a toolchain change cannot silently undo this.

use anyhow::{Context, bail};
use std::collections::HashSet;
use std::path::Path;

/// Path fragments, as both Rust manglings spell them (`<len><ident>`), of
/// the functions every panic goes through: all of `core::panicking`, the
/// out-of-line failure paths of indexing, slicing, `unwrap`/`expect`,
/// `RefCell` and allocation, and `std`'s panic handler.
const ENTRY_POINTS: &[&str] = &[
    "4core9panicking",
    "5index16slice_index_fail",
    "3str16slice_error_fail",
    "3str19slice_error_fail_rt",
    "6option13unwrap_failed",
    "6option13expect_failed",
    "6result13unwrap_failed",
    "4cell22panic_already_borrowed",
    "4cell30panic_already_mutably_borrowed",
    "17len_mismatch_fail",
    "7raw_vec17capacity_overflow",
    "5alloc18handle_alloc_error",
    "17rust_begin_unwind",
];

/// A function body of no locals and `unreachable`.
const TRAP_BODY: [u8; 3] = [0x00, 0x00, 0x0b];

fn leb(b: &[u8], i: &mut usize) -> anyhow::Result<u64> {
    let (mut r, mut shift) = (0u64, 0);
    loop {
        let x = *b.get(*i).context("truncated wasm")?;
        *i += 1;
        r |= u64::from(x & 0x7f) << shift;
        shift += 7;
        if x < 0x80 {
            return Ok(r);
        }
        if shift > 63 {
            bail!("bad LEB128 in wasm");
        }
    }
}

fn put_leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let x = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(x);
            return;
        }
        out.push(x | 0x80);
    }
}

fn name<'a>(b: &'a [u8], i: &mut usize) -> anyhow::Result<&'a [u8]> {
    let n = leb(b, i)? as usize;
    let s = b.get(*i..*i + n).context("truncated wasm")?;
    *i += n;
    Ok(s)
}

fn is_entry_point(name: &[u8]) -> bool {
    ENTRY_POINTS.iter().any(|p| {
        let p = p.as_bytes();
        name.windows(p.len())
            .enumerate()
            .any(|(at, w)| w == p && (at == 0 || !name[at - 1].is_ascii_digit()))
    })
}

/// Skips one import entry, answering whether it imports a function.
fn skip_import(b: &[u8], i: &mut usize) -> anyhow::Result<bool> {
    name(b, i)?;
    name(b, i)?;
    let kind = *b.get(*i).context("truncated wasm")?;
    *i += 1;
    let limits = |i: &mut usize| -> anyhow::Result<()> {
        let flags = leb(b, i)?;
        leb(b, i)?;
        if flags & 1 != 0 {
            leb(b, i)?;
        }
        Ok(())
    };
    match kind {
        0 => {
            leb(b, i)?;
        }
        1 => {
            *i += 1; // reference type
            limits(i)?;
        }
        2 => limits(i)?,
        3 => *i += 2, // value type, mutability
        4 => {
            *i += 1;
            leb(b, i)?;
        }
        k => bail!("unknown import kind {k}"),
    }
    Ok(kind == 0)
}

/// Writes `input` to `output` with the panic entry points trapping;
/// answers how many functions were replaced.
pub fn apply(input: &Path, output: &Path) -> anyhow::Result<usize> {
    let b = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    if b.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        bail!("{} is not a wasm module", input.display());
    }
    let mut sections = Vec::new();
    let mut i = 8;
    while i < b.len() {
        let start = i;
        let id = b[i];
        i += 1;
        let len = leb(&b, &mut i)? as usize;
        sections.push((id, start, i, i + len));
        i += len;
    }
    let (mut imported, mut targets) = (0u64, HashSet::new());
    for &(id, _, body, end) in &sections {
        let mut k = body;
        if id == 2 {
            for _ in 0..leb(&b, &mut k)? {
                imported += u64::from(skip_import(&b, &mut k)?);
            }
        } else if id == 0 && name(&b, &mut k)? == b"name" {
            while k < end {
                let sub = b[k];
                k += 1;
                let len = leb(&b, &mut k)? as usize;
                let next = k + len;
                if sub == 1 {
                    for _ in 0..leb(&b, &mut k)? {
                        let index = leb(&b, &mut k)?;
                        if is_entry_point(name(&b, &mut k)?) {
                            targets.insert(index);
                        }
                    }
                }
                k = next;
            }
        }
    }
    if targets.is_empty() {
        bail!(
            "{}: no panic entry point found by name (no `name` section, or the toolchain renamed them)",
            input.display()
        );
    }
    let mut out = b[..8].to_vec();
    for &(id, start, body, end) in &sections {
        if id != 10 {
            out.extend_from_slice(&b[start..end]);
            continue;
        }
        let mut k = body;
        let count = leb(&b, &mut k)?;
        let mut code = Vec::with_capacity(end - body);
        put_leb(&mut code, count);
        for f in 0..count {
            let len = leb(&b, &mut k)? as usize;
            let fbody = &b[k..k + len];
            k += len;
            let fbody = if targets.contains(&(imported + f)) {
                &TRAP_BODY[..]
            } else {
                fbody
            };
            put_leb(&mut code, fbody.len() as u64);
            code.extend_from_slice(fbody);
        }
        out.push(10);
        put_leb(&mut out, code.len() as u64);
        out.extend_from_slice(&code);
    }
    std::fs::write(output, out).with_context(|| format!("writing {}", output.display()))?;
    Ok(targets.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_path_segments_in_both_manglings() {
        assert!(is_entry_point(b"_ZN4core9panicking9panic_fmt17h0123E"));
        assert!(is_entry_point(
            b"_RNvNtCsgXGp5Oqx2Ny_4core9panicking18panic_bounds_check"
        ));
        assert!(is_entry_point(b"_RNvNtCsx_4core6option13unwrap_failed"));
        assert!(!is_entry_point(b"_RNvCs_13peliqan_embed14failure_reason"));
        // `14core9panicking` is a 14-byte identifier, not `core`.
        assert!(!is_entry_point(b"_RNv14core9panickingxx"));
    }

    #[test]
    fn replaces_named_bodies_and_keeps_the_rest() {
        // (func $keep (result i32) i32.const 7) (func $core::panicking::panic)
        // with a `name` section naming both.
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 5, 1, 0x60, 0, 1, 0x7f]); // type: () -> i32
        m.extend([3, 3, 2, 0, 0]); // two functions of type 0
        m.extend([10, 12, 2, 4, 0, 0x41, 7, 0x0b, 5, 0, 0x41, 9, 0x1a, 0x0b]);
        let names: &[(u8, &str)] = &[(0, "keep"), (1, "_ZN4core9panicking5panic17hE")];
        let mut sub = vec![names.len() as u8];
        for (idx, n) in names {
            sub.push(*idx);
            sub.push(n.len() as u8);
            sub.extend(n.as_bytes());
        }
        let mut custom = vec![4];
        custom.extend(b"name");
        custom.push(1);
        custom.push(sub.len() as u8);
        custom.extend(sub);
        m.push(0);
        m.push(custom.len() as u8);
        m.extend(custom);
        let dir = std::env::temp_dir().join(format!("panic-stub-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (inp, outp) = (dir.join("in.wasm"), dir.join("out.wasm"));
        std::fs::write(&inp, &m).unwrap();
        assert_eq!(apply(&inp, &outp).unwrap(), 1);
        let out = std::fs::read(&outp).unwrap();
        let code = [10, 10, 2, 4, 0, 0x41, 7, 0x0b, 3, 0, 0, 0x0b];
        assert!(out.windows(code.len()).any(|w| w == code), "{out:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
