//! Logging setup: `tracing` to stdout, text or JSON, filtered by `RUST_LOG`
//! (default `info`).
//!
//! Log lines carry values that come from requests (a tenant claim, Peliqan's
//! error messages). Rather than trusting every call site to escape them,
//! each formatted event passes through [`Escaping`] on its way out: the
//! formatter hands the writer one whole event per `write`, so every line
//! break, carriage return, terminal escape or other control character inside
//! it is written escaped (`\n`, `\x1b`, ...) and only the event's final
//! newline stays. A forged line cannot be injected whatever the call site.
//! Colours are used only when stdout is a terminal.

use std::io::{self, IsTerminal, Write};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the global subscriber. Call once, from `main`.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = !json && io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(Escaping::new(io::stdout, mode(json, ansi)));
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}

fn mode(json: bool, ansi: bool) -> Mode {
    match (json, ansi) {
        (true, _) => Mode::Json,
        (false, true) => Mode::TextWithColours,
        (false, false) => Mode::Text,
    }
}

/// How [`Escaping`] writes what must not appear raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text lines: control and line-breaking characters become `\n`,
    /// `\x1b`, `\u{2028}`...
    Text,
    /// The same, except the colour sequences (`ESC [ digits; m`) the
    /// formatter itself writes on a terminal. A value can then at most
    /// change colours, never move the cursor or break a line.
    TextWithColours,
    /// JSON lines: the formatter already escapes control characters; the
    /// characters some readers still take as line breaks (U+0085, U+2028,
    /// U+2029) become `\uXXXX`, valid inside the JSON strings they can only
    /// occur in.
    Json,
}

/// A [`MakeWriter`] whose writers escape each event (see the module docs).
#[derive(Debug, Clone)]
pub struct Escaping<M> {
    inner: M,
    mode: Mode,
}

impl<M> Escaping<M> {
    /// Escapes what `inner`'s writers are given, as `mode` says.
    pub fn new(inner: M, mode: Mode) -> Self {
        Self { inner, mode }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter {
            inner: self.inner.make_writer(),
            mode: self.mode,
        }
    }
}

/// One event's writer; see [`Escaping`].
#[derive(Debug)]
pub struct EscapingWriter<W> {
    inner: W,
    mode: Mode,
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // One call per event: the formatter writes its whole buffer at once,
        // and this consumes all of it, so `buf` is always a full event.
        self.inner.write_all(escape(buf, self.mode).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `event` with everything that is not plain text escaped, its one final
/// newline kept.
pub fn escape(event: &[u8], mode: Mode) -> std::borrow::Cow<'_, str> {
    let text = String::from_utf8_lossy(event);
    let (body, newline) = match text.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (&*text, ""),
    };
    if !body.chars().any(|c| needs_escape(c, mode)) {
        return text;
    }
    let mut out = String::with_capacity(body.len() + 16);
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\u{1b}' && mode == Mode::TextWithColours {
            let seq = colour_sequence(&body[i..]);
            if seq > 0 {
                out.push_str(&body[i..i + seq]);
                while chars.peek().is_some_and(|&(j, _)| j < i + seq) {
                    chars.next();
                }
                continue;
            }
        }
        if !needs_escape(c, mode) {
            out.push(c);
            continue;
        }
        match (c, mode) {
            (_, Mode::Json) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            ('\n', _) => out.push_str("\\n"),
            ('\r', _) => out.push_str("\\r"),
            ('\t', _) => out.push_str("\\t"),
            (c, _) if u32::from(c) < 0x100 => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            (c, _) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    out.push_str(newline);
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char, mode: Mode) -> bool {
    match mode {
        Mode::Json => matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'),
        Mode::Text | Mode::TextWithColours => {
            c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}')
                // Bidirectional overrides and isolates reorder what a
                // reader sees ("Trojan Source").
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        }
    }
}

/// The length of the colour (SGR) sequence `ESC [ [0-9;]* m` starting
/// `s`, or 0.
fn colour_sequence(s: &str) -> usize {
    let Some(rest) = s.strip_prefix("\u{1b}[") else {
        return 0;
    };
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    if rest.as_bytes().get(params) == Some(&b'm') {
        2 + params + 1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_text_event_stays_one_line_whatever_its_values_hold() {
        let raw = "INFO refused value=acme\nINFO forged\r\u{1b}[2K\u{2028}x\u{202e}\t\n";
        let out = escape(raw.as_bytes(), Mode::Text);
        assert_eq!(
            out,
            "INFO refused value=acme\\nINFO forged\\r\\x1b[2K\\u{2028}x\\u{202e}\\t\n"
        );
        assert_eq!(out.matches('\n').count(), 1);
        assert!(matches!(
            escape(b"plain line\n", Mode::Text),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape("Ærø\n".as_bytes(), Mode::Text), "Ærø\n");
    }

    #[test]
    fn on_a_terminal_only_colour_sequences_pass() {
        let raw = "\u{1b}[32m INFO\u{1b}[0m v=a\u{1b}[1A\u{1b}[31mred\n";
        assert_eq!(
            escape(raw.as_bytes(), Mode::TextWithColours),
            "\u{1b}[32m INFO\u{1b}[0m v=a\\x1b[1A\u{1b}[31mred\n"
        );
    }

    #[test]
    fn json_lines_escape_what_readers_take_as_line_breaks() {
        let raw = "{\"v\":\"a\u{2028}b\u{85}c\\n\"}\n";
        assert_eq!(
            escape(raw.as_bytes(), Mode::Json),
            "{\"v\":\"a\\u2028b\\u0085c\\n\"}\n"
        );
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_text_subscriber_writes_one_line_per_event() {
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(Escaping::new(move || sink.clone(), Mode::Text))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let claim = "acme\n2026-01-01T00:00:00Z  INFO forged\r\u{1b}[2K";
            tracing::info!(value = %claim, "refused the tenant claim {claim}");
            tracing::warn!("second");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("forged\\r\\x1b[2K"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "no colours off a terminal: {text}"
        );
    }
}
