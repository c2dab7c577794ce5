// mermaid-parse.mjs parses Mermaid sequence diagrams with Mermaid itself and
// prints, for each file named on the command line, one JSON line: the
// participants and the messages (arrows and notes) as Mermaid read them,
// with entity codes decoded as Mermaid decodes them when it draws. It is the
// oracle of TestMermaidOracle; run it from a directory whose node_modules
// holds mermaid and jsdom.
import { JSDOM } from 'jsdom';
import fs from 'node:fs';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

const named = { lt: '<', gt: '>', amp: '&', quot: '"' };
const decode = (s) =>
  s.replace(/\uFB02\u00B0\u00B0(\d+)\u00B6\u00DF/g, (_, n) => String.fromCodePoint(Number(n)))
   .replace(/\uFB02\u00B0(\w+)\u00B6\u00DF/g, (m, n) => named[n] ?? m);

for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  try {
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    const actors = db.getActorKeys().map((k) => ({ id: k, name: decode(db.getActor(k).description) }));
    const messages = db.getMessages().map((m) => ({ type: m.type, from: m.from ?? '', to: m.to ?? '', text: decode(m.message ?? '') }));
    console.log(JSON.stringify({ file, ok: true, actors, messages }));
  } catch (e) {
    console.log(JSON.stringify({ file, ok: false, error: String(e.message ?? e) }));
  }
}
