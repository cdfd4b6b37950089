// The candidate room's code editor (CodeMirror 6), bundled by build.mjs into
// src/viva/static/build/editor.js and exposed as window.VivaEditor.
import { EditorView, basicSetup } from "codemirror";
import { EditorState, Compartment } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";

function languageSupport(name) {
  if (name === "python") return python();
  return javascript({ typescript: name === "typescript" });
}

function create(parent, { language, doc, onChange, onPaste, label }) {
  const lang = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: doc || "",
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        lang.of(languageSupport(language)),
        EditorView.contentAttributes.of({ "aria-label": label || "Code editor" }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && onChange) onChange(u.state.doc.toString(), u);
        }),
        EditorView.domEventHandlers({
          paste(event) {
            const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
            if (onPaste) onPaste(text.length);
            return false;
          },
        }),
      ],
    }),
  });
  return {
    view,
    get value() { return view.state.doc.toString(); },
    set value(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    setLanguage(name) { view.dispatch({ effects: lang.reconfigure(languageSupport(name)) }); },
    focus() { view.focus(); },
  };
}

window.VivaEditor = { create };
