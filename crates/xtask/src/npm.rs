//! `cargo xtask npm [--pack]`: builds the npm package `peliqan-embed`.
//!
//! Flow: wasm32 release build (size-tuned) -> on rustup's route, panic
//! entry points made to trap at once ([`crate::panic_stub`]) ->
//! `wasm-bindgen --target web` (the ES-module glue) -> `wasm-opt -Oz` ->
//! import and export names shortened ([`minify_names`]) -> the project's
//! own files from `crates/peliqan-embed/js` (`package.json` with the
//! crate's version, the entry `index.js` with `sdk.js`, bundled with the
//! glue into one minified `index.js`; the hand-owned `index.d.ts`) and the
//! crate README -> `target/npm/peliqan-embed`. Prints raw and gzipped sizes against the
//! budgets (core, UI entry; see [`report_sizes`]) and fails when an
//! enforced one is exceeded; `--pack` also runs `npm pack` and returns the
//! tarball.

use crate::cmd::{root, run};
use crate::wasm::{self, Toolchain};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Features the Rust wasm output uses; wasm-opt must be told.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// How wasm-opt shrinks the bundle (measured 2026-11-30, gzipped): `-Oz`,
/// repeated until it stops paying (`--converge`, 0.1 KB); without the
/// `producers` section (0.1 KB); and `--low-memory-unused` (0.3 KB), which
/// lets it fold constant offsets into loads and stores: true of Rust's
/// wasm32 layout, whose stack comes first and grows down from 1 MiB, so
/// the lowest 1 KiB is only reached by a stack overflow. Not kept:
/// `--gufa` and `-Os` (larger), `--traps-never-happen` (changes what a
/// trap does for 0.1 KB).
const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--converge",
    "--strip-producers",
    "--low-memory-unused",
];

/// Budgets, gzipped, checked on every build; going over either fails it.
/// Core: the wasm and the bundled entry `index.js` (wasm-bindgen's glue,
/// the error class, `sdk.js`), what every user of the SDK loads. UI: the
/// `./ui` entry's JavaScript and CSS, loaded only by users of the drop-in
/// UI.
const CORE_BUDGET_KB: f64 = 50.0;
const UI_BUDGET_KB: f64 = 20.0;
/// Whether going over [`CORE_BUDGET_KB`] fails the build (it does since
/// the core fits: see the crate README's "Bundle size").
const CORE_BUDGET_ENFORCED: bool = true;

/// The package directory.
pub fn package_dir() -> PathBuf {
    root().join("target/npm/peliqan-embed")
}

/// Builds the package; with `pack`, also the tarball, whose path it returns.
pub fn build(pack: bool) -> anyhow::Result<Option<PathBuf>> {
    let tc = wasm::ensure()?;
    let bindgen_dir = wasm::ensure_bindgen()?;
    let wasm_opt = wasm::ensure_wasm_opt()?;
    let mut build = tc.cargo("build");
    tc.release_for_size(&mut build);
    run(build.args(["-p", "peliqan-embed", "--lib"]))?;

    let out = package_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let mut built = Toolchain::out_dir("release").join("peliqan_embed.wasm");
    if matches!(tc, Toolchain::Rustup) {
        // Same file name: wasm-bindgen names its output after it.
        let stubbed = root().join("target/wasm/panic-stub/peliqan_embed.wasm");
        std::fs::create_dir_all(stubbed.parent().unwrap_or(&out))?;
        let n = crate::panic_stub::apply(&built, &stubbed)?;
        eprintln!("xtask: {n} panic entry points now trap at once (see panic_stub.rs)");
        built = stubbed;
    }
    run(Command::new(bindgen_dir.join("wasm-bindgen"))
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--omit-default-module-path",
            "--out-dir",
        ])
        .arg(&out)
        .arg(&built))?;
    let wasm_file = out.join("peliqan_embed_bg.wasm");
    run(Command::new(&wasm_opt)
        .args(WASM_OPT_FLAGS)
        .args(WASM_FEATURES)
        .arg(&wasm_file)
        .arg("-o")
        .arg(&wasm_file))?;

    minify_names(&wasm_opt, &out)?;

    let js_src = root().join("crates/peliqan-embed/js");
    let error_js = find_snippet(&out.join("snippets"), "peliqan-error.js")?;
    let error_rel = error_js
        .strip_prefix(&out)?
        .to_string_lossy()
        .replace('\\', "/");
    for f in ["index.js", "sdk.js"] {
        let text = std::fs::read_to_string(js_src.join(f))?
            .replace("./peliqan-error.js", &format!("./{error_rel}"));
        std::fs::write(out.join(f), text)?;
    }
    bundle(&out)?;
    std::fs::copy(js_src.join("index.d.ts"), out.join("index.d.ts"))?;
    copy_ui(&out)?;
    std::fs::copy(
        root().join("crates/peliqan-embed/README.md"),
        out.join("README.md"),
    )?;
    // Same version as the crate: the workspace version, which xtask shares.
    let manifest = std::fs::read_to_string(js_src.join("package.json"))?
        .replace("0.0.0-set-by-xtask", env!("CARGO_PKG_VERSION"));
    std::fs::write(out.join("package.json"), manifest)?;

    report_sizes(&out, tc.describe())?;
    if !pack {
        return Ok(None);
    }
    let dest = root().join("target/npm");
    let o = Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&dest)
        .current_dir(&out)
        .stderr(Stdio::inherit())
        .output()
        .context("could not run npm pack")?;
    if !o.status.success() {
        bail!("npm pack failed");
    }
    let name = String::from_utf8_lossy(&o.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let tarball = dest.join(name);
    eprintln!("xtask: packed {}", tarball.display());
    Ok(Some(tarball))
}

/// Renames the wasm's imports, exports and import module to one or two
/// letters (`wasm-opt --minify-imports-and-exports-and-modules`) and the
/// glue to match: wasm-bindgen's names carry a 16-digit hash each, in the
/// `.wasm` and again in the glue (1.1 KB gzipped together). The glue
/// reaches exports only as `wasm.NAME` and imports as the import object's
/// keys; afterwards no old name may be left in it.
fn minify_names(wasm_opt: &Path, out: &Path) -> anyhow::Result<()> {
    let wasm_file = out.join("peliqan_embed_bg.wasm");
    let o = Command::new(wasm_opt)
        .arg("--minify-imports-and-exports-and-modules")
        .args(WASM_FEATURES)
        .arg(&wasm_file)
        .arg("-o")
        .arg(&wasm_file)
        .stderr(Stdio::inherit())
        .output()
        .context("could not run wasm-opt")?;
    if !o.status.success() {
        bail!("wasm-opt --minify-imports-and-exports-and-modules failed");
    }
    let map: serde_json::Value =
        serde_json::from_slice(&o.stdout).context("wasm-opt printed no name mapping")?;
    let pairs = |key: &str, old: usize, new: usize| -> anyhow::Result<Vec<(String, String)>> {
        let list = map[key].as_array().context("no mapping list")?;
        list.iter()
            .map(|e| match (e[old].as_str(), e[new].as_str()) {
                (Some(a), Some(b)) => Ok((a.to_owned(), b.to_owned())),
                _ => bail!("unexpected wasm-opt mapping entry {e}"),
            })
            .collect()
    };
    let (imports, exports) = (pairs("imports", 1, 2)?, pairs("exports", 0, 1)?);
    let glue_file = out.join("peliqan_embed.js");
    let mut glue = std::fs::read_to_string(&glue_file)?;
    let module = "\"./peliqan_embed_bg.js\"";
    if !glue.contains(module) {
        bail!("the glue names no import module {module}");
    }
    // Every import moves to module "a" (the only module).
    glue = glue.replace(module, "\"a\"");
    for (from, to) in &imports {
        glue = replace_word(&glue, from, to);
    }
    for (from, to) in &exports {
        glue = replace_word(&glue, &format!("wasm.{from}"), &format!("wasm.{to}"));
    }
    let old_names = imports.iter().map(|(f, _)| f.clone());
    for name in old_names.chain(exports.iter().map(|(f, _)| format!("wasm.{f}"))) {
        if replace_word(&glue, &name, "") != glue {
            bail!("the glue still uses `{name}` after renaming; see npm.rs minify_names");
        }
    }
    std::fs::write(glue_file, glue)?;
    Ok(())
}

/// `text` with each `from` that is a whole word (no identifier character
/// on either side) replaced by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(at) = text[i..].find(from) {
        let (start, end) = (i + at, i + at + from.len());
        let whole = !ident(text[..start].chars().next_back()) && !ident(text[end..].chars().next());
        out.push_str(&text[i..start]);
        out.push_str(if whole { to } else { from });
        i = end;
    }
    out.push_str(&text[i..]);
    out
}

/// Bundles the entry `index.js` with everything it loads (wasm-bindgen's
/// glue, its snippets such as the error class, `sdk.js`) into one minified
/// `index.js`, and removes those files: one request, and 3.4 KB less
/// gzipped than the same files minified apart (one gzip dictionary).
/// ES module syntax, `import.meta.url` and the literal `new
/// URL('peliqan_embed_bg.wasm', import.meta.url)` that bundlers look for
/// survive it; `cargo xtask consumers` checks that with real bundlers.
fn bundle(out: &Path) -> anyhow::Result<()> {
    let esbuild = wasm::ensure_esbuild()?;
    run(Command::new(&esbuild)
        .arg("index.js")
        .args([
            "--bundle",
            "--minify",
            "--format=esm",
            "--target=es2020",
            "--log-level=warning",
            "--allow-overwrite",
            "--outfile=index.js",
        ])
        .current_dir(out))?;
    let text = std::fs::read_to_string(out.join("index.js"))?;
    if !text.contains("new URL(\"peliqan_embed_bg.wasm\",import.meta.url)") {
        bail!("bundling index.js lost the .wasm URL expression bundlers look for");
    }
    std::fs::remove_file(out.join("peliqan_embed.js"))?;
    std::fs::remove_file(out.join("sdk.js"))?;
    std::fs::remove_dir_all(out.join("snippets"))?;
    Ok(())
}

/// The drop-in UI entry (`peliqan-embed/ui`): plain JavaScript, CSS and
/// types from `crates/peliqan-embed/ui`, copied as they are into `ui/`.
fn copy_ui(out: &Path) -> anyhow::Result<()> {
    let src = root().join("crates/peliqan-embed/ui");
    if !src.is_dir() {
        return Ok(());
    }
    let dest = out.join("ui");
    std::fs::create_dir_all(&dest)?;
    for entry in std::fs::read_dir(&src)? {
        let p = entry?.path();
        let keep = p
            .extension()
            .is_some_and(|e| e == "js" || e == "ts" || e == "css");
        if p.is_file() && keep {
            std::fs::copy(&p, dest.join(p.file_name().unwrap_or_default()))?;
        }
    }
    Ok(())
}

/// wasm-bindgen copies `module = "/js/..."` imports under a hashed folder.
fn find_snippet(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("no {}", dir.display()))? {
        let p = entry?.path();
        if p.is_dir() {
            if let Ok(found) = find_snippet(&p, name) {
                return Ok(found);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Ok(p);
        }
    }
    bail!("{name} not found under {}", dir.display())
}

/// Byte count of `path` compressed with `gzip -9`.
fn gzipped(path: &Path) -> anyhow::Result<u64> {
    let o = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("gzip is needed to measure sizes")?;
    Ok(o.stdout.len() as u64)
}

/// Prints the raw and gzipped sizes of `files` and their total; returns
/// the gzipped total in KB.
fn print_sizes(out: &Path, label: &str, files: &[PathBuf]) -> anyhow::Result<f64> {
    let kb = |b: u64| b as f64 / 1024.0;
    let (mut raw_total, mut gz_total) = (0, 0);
    for f in files {
        let (raw, gz) = (std::fs::metadata(f)?.len(), gzipped(f)?);
        raw_total += raw;
        gz_total += gz;
        let name = f.strip_prefix(out)?.display().to_string();
        println!(
            "  {name:<52} {:>8.1} KB raw {:>7.1} KB gzipped",
            kb(raw),
            kb(gz)
        );
    }
    println!(
        "  {label:<52} {:>8.1} KB raw {:>7.1} KB gzipped",
        kb(raw_total),
        kb(gz_total)
    );
    Ok(kb(gz_total))
}

/// Prints the sizes of the core (wasm + JavaScript) and of the UI entry,
/// raw and gzipped, against their budgets ([`CORE_BUDGET_KB`],
/// [`UI_BUDGET_KB`]); fails when an enforced budget is exceeded.
fn report_sizes(out: &Path, route: &str) -> anyhow::Result<()> {
    // Everything the package's entry loads: the wasm and the bundled
    // `index.js` (glue, error class, sdk.js), nothing else left beside.
    let mut core = vec![out.join("peliqan_embed_bg.wasm")];
    for entry in std::fs::read_dir(out)? {
        let p = entry?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "js") {
            core.push(p);
        }
    }
    core[1..].sort();
    println!("peliqan-embed bundle sizes ({route}):");
    let core_kb = print_sizes(out, "core total (wasm + JS)", &core)?;

    let ui_dir = out.join("ui");
    let ui: Vec<PathBuf> = if ui_dir.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&ui_dir)? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "js" || e == "css") {
                files.push(p);
            }
        }
        files.sort();
        files
    } else {
        Vec::new()
    };
    let ui_kb = if ui.is_empty() {
        println!("  no UI entry");
        None
    } else {
        Some(print_sizes(out, "UI entry total (ui/: JS + CSS)", &ui)?)
    };

    let mut over = Vec::new();
    let core_verdict = if core_kb <= CORE_BUDGET_KB {
        "within budget".to_owned()
    } else if CORE_BUDGET_ENFORCED {
        over.push(format!(
            "the core is {core_kb:.1} KB gzipped, over its {CORE_BUDGET_KB} KB budget"
        ));
        "OVER BUDGET".to_owned()
    } else {
        format!(
            "target, not yet enforced: {:.1} KB to go",
            core_kb - CORE_BUDGET_KB
        )
    };
    println!("budget: core {core_kb:.1} KB / {CORE_BUDGET_KB} KB gzipped ({core_verdict})");
    match ui_kb {
        None => println!("budget: UI entry {UI_BUDGET_KB} KB gzipped (no UI entry)"),
        Some(ui_kb) => {
            let verdict = if ui_kb <= UI_BUDGET_KB {
                "within budget"
            } else {
                over.push(format!(
                    "the UI entry is {ui_kb:.1} KB gzipped, over its {UI_BUDGET_KB} KB budget"
                ));
                "OVER BUDGET"
            };
            println!("budget: UI entry {ui_kb:.1} KB / {UI_BUDGET_KB} KB gzipped ({verdict})");
        }
    }
    if !over.is_empty() {
        bail!("bundle size: {}", over.join("; "));
    }
    Ok(())
}
