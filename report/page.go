package report

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tcplab/tcplab/i18n"
)

//go:embed assets/report.css
var css string

//go:embed assets/report.js
var script string

// page is a report ready to be written.
type page struct {
	w      *Writer
	res    Result
	ladder string
	graphs string
	det    []detail
}

// page lays the report out.
func (w *Writer) page(res Result) *page {
	rows, cut := w.kept()
	l := &ladder{w: w, rows: rows, cut: cut}
	return &page{w: w, res: res, ladder: l.draw(), graphs: w.graphs(), det: l.det}
}

// pageData is the JSON the page's script reads: every drawn row's details
// and the labels of their fields, in each language.
type pageData struct {
	Lang    string                       `json:"lang"`
	Details []detail                     `json:"details"`
	Labels  map[string]map[string]string `json:"labels"`
}

// textBoth renders an HTML element in each language; the page shows the
// reader's.
func textBoth(tag, class string, m i18n.Msg, names i18n.Namer) string {
	var b strings.Builder
	for _, lang := range langs {
		fmt.Fprintf(&b, `<%s class="%s l-%s">%s</%s>`, tag, class, lang, esc(m.Text(lang, names)), tag)
	}
	return b.String()
}

// write writes the page.
func (p *page) write(out io.Writer) error {
	w := p.w
	names := w.t.Names
	b := bufio.NewWriter(out)
	m := w.meta
	title := m.Name
	if m.Title != "" {
		title += " — " + m.Title
	}
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"%s\" data-lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", htmlLang(m.Lang), m.Lang)
	fmt.Fprintf(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"tcplab\">\n<title>tcplab: %s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(title), css)
	b.WriteString(`<header><div class="langs"><button type="button" data-set-lang="en">English</button><button type="button" data-set-lang="zh">中文</button></div>`)
	fmt.Fprintf(b, "<h1>%s</h1>\n", esc(title))
	writeDescription(b, m.Description)
	hostNames, addrs := w.t.Hosts()
	var hosts []string
	for i, n := range hostNames {
		var as []string
		for _, a := range addrs[i] {
			as = append(as, a.String())
		}
		hosts = append(hosts, n+" = "+strings.Join(as, ", "))
	}
	b.WriteString(`<p class="meta">`)
	b.WriteString(textBoth("span", "", i18n.M("out.seed", m.Seed), names))
	b.WriteString(" · ")
	for i, lang := range langs {
		fmt.Fprintf(b, `<span class="l-%s">%s</span>`, lang, esc(i18n.M("out.hosts", strings.Join(hosts, i18n.M("out.hosts.sep").Text(langs[i], nil))).Text(lang, nil)))
	}
	b.WriteString("<br>")
	b.WriteString(textBoth("span", "", i18n.M("out.end", fmtTime(p.res.End), p.res.Stop), names))
	b.WriteString(" · ")
	b.WriteString(textBoth("span", "", i18n.M("out.report.summary", w.segs, w.rows, len(w.conns)), names))
	b.WriteString("</p>\n")
	p.writeOutcomes(b)
	b.WriteString("</header>\n<nav>")
	b.WriteString(textBoth("label", "", i18n.M("out.report.conn"), nil))
	all := i18n.M("out.report.conn.all")
	fmt.Fprintf(b, ` <select id="conn"><option value="0" data-en="%s" data-zh="%s">%s</option>`,
		esc(all.Text(i18n.EN, nil)), esc(all.Text(i18n.ZH, nil)), esc(all.Text(m.Lang, nil)))
	for _, c := range w.conns {
		fmt.Fprintf(b, `<option value="%d">%d: %s</option>`, c.id, c.id, esc(c.label))
	}
	b.WriteString("</select></nav>\n<main>\n<section id=\"ladder-sec\">")
	b.WriteString(textBoth("h2", "", i18n.M("out.report.ladder"), nil))
	b.WriteString(textBoth("p", "hint", i18n.M("out.report.ladder.hint"), nil))
	fmt.Fprintf(b, "<div class=\"ladder-wrap\">%s</div>\n</section>\n", p.ladder)
	b.WriteString(`<aside id="details">`)
	b.WriteString(textBoth("h2", "", i18n.M("out.report.details"), nil))
	b.WriteString(`<div id="detail-body">`)
	b.WriteString(textBoth("p", "hint", i18n.M("out.report.details.none"), nil))
	b.WriteString("</div></aside>\n<section id=\"graphs\">")
	b.WriteString(textBoth("h2", "", i18n.M("out.report.graphs"), nil))
	b.WriteString(textBoth("p", "hint", i18n.M("out.report.graphs.hint"), nil))
	b.WriteString(p.graphs)
	b.WriteString("</section>\n</main>\n")
	data := pageData{Lang: m.Lang.String(), Details: p.det, Labels: map[string]map[string]string{}}
	for _, lang := range langs {
		lm := map[string]string{}
		for _, k := range i18n.Keys() {
			if rest, ok := strings.CutPrefix(k, "out.report.f."); ok {
				lm[rest] = i18n.M(k).Text(lang, nil)
			}
		}
		data.Labels[lang.String()] = lm
	}
	if data.Details == nil {
		data.Details = []detail{}
	}
	js, err := json.Marshal(data) // escapes <, > and &, so it cannot end the script
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "<script type=\"application/json\" id=\"data\">%s</script>\n<script>\n%s</script>\n</body>\n</html>\n", js, script)
	return b.Flush()
}

// writeOutcomes writes the expectations and whether each held.
func (p *page) writeOutcomes(b *bufio.Writer) {
	if !p.res.Checked || len(p.res.Outcomes) == 0 {
		b.WriteString(`<section id="expect">`)
		b.WriteString(textBoth("p", "hint", i18n.M("out.report.noexpect"), nil))
		b.WriteString("</section>\n")
		return
	}
	failed := 0
	for _, o := range p.res.Outcomes {
		if !o.OK {
			failed++
		}
	}
	// Open when something failed: that is what the reader came for.
	open, cls := "", "ok"
	if failed > 0 {
		open, cls = " open", "failed"
	}
	fmt.Fprintf(b, `<details id="expect" class="%s"%s><summary>`, cls, open)
	b.WriteString(textBoth("span", "count", i18n.M("out.expect", len(p.res.Outcomes)-failed, len(p.res.Outcomes)), nil))
	b.WriteString("</summary><ul>")
	for _, o := range p.res.Outcomes {
		cls, word := "pass", "out.report.pass"
		if !o.OK {
			cls, word = "fail", "out.report.fail"
		}
		fmt.Fprintf(b, `<li class="%s"><b>%s</b> <code>%s</code> %s`, cls, textBoth("span", "", i18n.M(word), nil), esc(o.Where), esc(o.Check))
		if o.Why != "" {
			fmt.Fprintf(b, `<div class="why">%s</div>`, textBoth("span", "", i18n.M("out.report.why", o.Why), nil))
		}
		if !o.OK && o.Found != "" {
			fmt.Fprintf(b, `<div class="found">%s</div>`, esc(o.Found))
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ul></details>\n")
}

// writeDescription writes the lab's description as paragraphs (its blank
// lines), the first shown and the rest folded under it.
func writeDescription(b *bufio.Writer, desc string) {
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(desc), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			paras = append(paras, esc(p))
		}
	}
	switch len(paras) {
	case 0:
	case 1:
		fmt.Fprintf(b, "<p class=\"desc\">%s</p>\n", paras[0])
	default:
		fmt.Fprintf(b, "<details class=\"desc\"><summary>%s</summary><p>%s</p></details>\n", paras[0], strings.Join(paras[1:], "</p><p>"))
	}
}

// htmlLang is the page's lang attribute for lang.
func htmlLang(lang i18n.Lang) string {
	if lang == i18n.ZH {
		return "zh-CN"
	}
	return "en"
}
