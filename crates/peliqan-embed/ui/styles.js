// The drop-in UI's stylesheet, inside its shadow root. Colours, radius and
// font come from the partner's --peliqan-* custom properties (see the
// README's "Drop-in UI" section); the defaults meet WCAG AA contrast in
// both themes.
const DARK = '--_bg:var(--peliqan-bg,#111827);--_fg:var(--peliqan-fg,#f9fafb);--_muted:var(--peliqan-muted,#b6bcc6);'
  + '--_surface:var(--peliqan-surface,#1f2937);--_border:var(--peliqan-border,#6b7280);'
  + '--_accent:var(--peliqan-accent,#60a5fa);--_accent-fg:var(--peliqan-accent-fg,#111827);'
  + '--_danger:var(--peliqan-danger,#fca5a5);--_success:var(--peliqan-success,#86efac);'
  + '--_warning:var(--peliqan-warning,#fcd34d);color-scheme:dark';

export const CSS = `
:host{--_bg:var(--peliqan-bg,#fff);--_fg:var(--peliqan-fg,#111827);--_muted:var(--peliqan-muted,#4b5563);
--_surface:var(--peliqan-surface,#f3f4f6);--_border:var(--peliqan-border,#6b7280);
--_accent:var(--peliqan-accent,#1d4ed8);--_accent-fg:var(--peliqan-accent-fg,#fff);
--_danger:var(--peliqan-danger,#b91c1c);--_success:var(--peliqan-success,#15803d);--_warning:var(--peliqan-warning,#92400e);
--_focus:var(--peliqan-focus,var(--_accent));--_r:var(--peliqan-radius,8px);
display:block;color:var(--_fg);font-family:var(--peliqan-font,inherit);font-size:var(--peliqan-font-size,inherit);line-height:1.45;color-scheme:light}
:host([theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host([theme=auto]){${DARK}}}
:host([hidden]){display:none}
*{box-sizing:border-box}
.panel{background:var(--_bg);color:var(--_fg);border:1px solid var(--_border);border-radius:var(--_r);padding:1rem;min-width:0}
dialog{padding:0;border:0;background:transparent;color:inherit;width:min(42rem,calc(100vw - 1rem));max-width:none;max-height:calc(100dvh - 1rem);overflow:auto;font:inherit}
dialog .panel{min-height:20rem}
dialog::backdrop{background:rgb(0 0 0/.5)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin-bottom:1rem}
.modal header{display:grid;grid-template-columns:1fr auto}
.modal nav{grid-column:1/-1;grid-row:2}
h2{font-size:1.2em;margin:0;flex:1 1 12rem}
h3{font-size:1.1em;margin:0 0 .75rem}
h2:focus,h3:focus{outline:none}
nav{display:flex;flex-wrap:wrap;gap:.25rem}
button,input,select{font:inherit;color:inherit}
button{cursor:pointer;border:1px solid var(--_border);background:var(--_bg);border-radius:var(--_r);padding:.45rem .9rem;min-height:2.5rem}
button[aria-current=true]{background:var(--_surface);border-color:var(--_fg);font-weight:600}
button.primary{background:var(--_accent);color:var(--_accent-fg);border-color:var(--_accent);font-weight:600}
button:disabled{opacity:.6;cursor:default}
button.x{min-width:2.5rem;padding:.3rem}
:focus-visible{outline:3px solid var(--_focus);outline-offset:2px}
input,select{font-weight:400;width:100%;padding:.45rem .6rem;border:1px solid var(--_border);border-radius:var(--_r);background:var(--_bg);min-height:2.5rem}
input[type=checkbox]{width:1.2rem;min-height:1.2rem;margin:0;accent-color:var(--_accent)}
[aria-invalid=true]{border-color:var(--_danger);border-width:2px}
.bar{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:.75rem}
.bar>label{flex:1 1 12rem}
.bar>label:last-child{flex:0 1 12rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
label span{display:block;margin-bottom:.25rem}
ul{list-style:none;margin:0;padding:0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,11rem),1fr));gap:.5rem}
.card{width:100%;display:flex;align-items:center;gap:.6rem;text-align:start;background:var(--_bg);padding:.6rem}
.card small,.muted{color:var(--_muted)}
.card .txt{display:flex;flex-direction:column;min-width:0;overflow-wrap:anywhere}
.logo{flex:none;width:2.25rem;height:2.25rem;border-radius:calc(var(--_r)/1.5);display:grid;place-items:center;object-fit:contain;background:var(--_accent);color:var(--_accent-fg);font-weight:700}
img.logo{background:transparent}
form{display:grid;gap:.9rem}
.field>p{margin:.25rem 0 0;font-size:.9em}
.check{display:flex;gap:.5rem;align-items:center}
.check label{margin:0}
.err{color:var(--_danger);font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}
.consent{border-inline-start:4px solid var(--_accent);padding:.25rem 0 .25rem .9rem}
.brand{font-weight:700}
.steps{list-style:decimal;padding-inline-start:1.4rem}
.steps li[aria-current=step]{font-weight:600}
[data-view=progress] li[aria-current=step]::after{content:'';display:inline-block;vertical-align:middle;width:.9em;height:.9em;margin-inline-start:.5em;border:2px solid currentColor;border-inline-end-color:transparent;border-radius:50%;animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(1turn)}}
@media (prefers-reduced-motion:reduce){[data-view=progress] li::after{animation:none}}
.ok{color:var(--_success)}
.bad{color:var(--_danger)}
.rows>li{border:1px solid var(--_border);border-radius:var(--_r);padding:.6rem;margin-bottom:.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.rows .name{font-weight:600;flex:1 1 10rem;overflow-wrap:anywhere}
.badge{border:1px solid currentColor;border-radius:999px;padding:0 .5rem;font-size:.85em;font-weight:600}
.badge[data-status=connected]{color:var(--_success)}
.badge[data-status=failed]{color:var(--_danger)}
.badge[data-status=pending]{color:var(--_warning)}
.rows p{flex-basis:100%;margin:0}
.logs li{font-family:ui-monospace,monospace;font-size:.85em;padding:.3rem 0;border-bottom:1px solid var(--_surface);overflow-wrap:anywhere}
.logs li[data-level=error]{color:var(--_danger)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:30rem){.panel{padding:.75rem}nav{flex-basis:100%}nav button{flex:1}}
`;
