package tap

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// docs/OUTPUT.md documents every field of every JSON object the tap
// writes. TestOutputDocFields reads the field names from the json tags of
// the types jsonOf returns for each row kind, so that a field cannot be
// added (or a kind) without documenting it; cmd/tcplab checks its lab and
// end objects the same way.

// outputDoc is the document, relative to this package.
const outputDoc = "../docs/OUTPUT.md"

// docSection is the text under one "##" or "###" heading of a Markdown
// document, up to the next such heading.
type docSection struct {
	heading string // the heading line: "### `segment` — ..."
	body    string
}

// docSections splits doc at its "##" and "###" headings. A line in a
// fenced code block is never a heading.
func docSections(doc string) []docSection {
	var secs []docSection
	cur := docSection{}
	fenced := false
	var body strings.Builder
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && (strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ")) {
			cur.body = body.String()
			secs = append(secs, cur)
			cur = docSection{heading: strings.TrimSpace(line)}
			body.Reset()
			continue
		}
		body.WriteString(line)
	}
	cur.body = body.String()
	return append(secs, cur)
}

// mentions reports whether the section names field as code: `field`.
func (s docSection) mentions(field string) bool {
	return strings.Contains(s.heading+"\n"+s.body, "`"+field+"`")
}

// kindSection returns the section of the JSON object kind: a "###"
// heading that names the kind as code before its dash ("### `segment` —
// ...", "### `copy` and `drop` — ...").
func kindSection(secs []docSection, kind string) (docSection, bool) {
	for _, s := range secs {
		title, _, _ := strings.Cut(s.heading, " — ")
		if strings.HasPrefix(title, "### ") && strings.Contains(title, "`"+kind+"`") {
			return s, true
		}
	}
	return docSection{}, false
}

// anySection reports whether a section whose heading contains in mentions
// field.
func anySection(secs []docSection, in, field string) bool {
	for _, s := range secs {
		if strings.Contains(s.heading, in) && s.mentions(field) {
			return true
		}
	}
	return false
}

// jsonShape is the JSON field names of a struct type, in order: those it
// declares itself, those of the structs it embeds, and those of the
// objects (or arrays of objects) its fields hold, by the holding field's
// name.
type jsonShape struct {
	own      []string
	embedded []string
	nested   map[string][]string
}

// shapeOf reads the json tags of struct type t.
func shapeOf(t reflect.Type) jsonShape {
	s := jsonShape{nested: map[string][]string{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			inner := shapeOf(f.Type)
			s.embedded = append(s.embedded, inner.own...)
			s.embedded = append(s.embedded, inner.embedded...)
			for k, v := range inner.nested {
				s.nested[k] = append(s.nested[k], v...)
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		s.own = append(s.own, name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			inner := shapeOf(ft)
			s.nested[name] = append(s.nested[name], inner.own...)
			s.nested[name] = append(s.nested[name], inner.embedded...)
			for _, v := range inner.nested {
				s.nested[name] = append(s.nested[name], v...)
			}
		}
	}
	return s
}

// docRow returns a row of kind k with everything jsonOf reads set.
func docRow(k Kind) *Row {
	return &Row{Kind: k, No: 1, Seg: &segment.Segment{}, App: &event.App{Bytes: -1}, Timer: &event.Timer{}, Stall: &event.Stall{}, World: &event.World{}}
}

// rowKinds returns every row kind, in order.
func rowKinds() []Kind {
	var kinds []Kind
	for k := Kind(1); !strings.HasPrefix(k.String(), "Kind("); k++ {
		kinds = append(kinds, k)
	}
	return kinds
}

// readOutputDoc returns docs/OUTPUT.md.
func readOutputDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(outputDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOutputDocFields checks that docs/OUTPUT.md has a section for every
// row kind ("### `KIND` — ...") that names every field of its JSON object.
// A field every row has may be named in a section about every row instead
// ("Fields every row starts with"), and a field of an object a row holds
// (cause, arrival, counters) in a section whose heading names the field
// that holds it ("### `arrival` ...").
func TestOutputDocFields(t *testing.T) {
	secs := docSections(readOutputDoc(t))
	tp := New()
	for _, k := range rowKinds() {
		kind := k.String()
		typ := reflect.TypeOf(tp.jsonOf(docRow(k), i18n.EN))
		if typ.Name() == "" {
			t.Errorf("kind %q: jsonOf has no type of its own for it (add one to tap/json.go and document it)", kind)
		}
		sec, ok := kindSection(secs, kind)
		if !ok {
			t.Errorf("%s: no section for kind %q (a heading \"### `%s` — ...\")", outputDoc, kind, kind)
			continue
		}
		shape := shapeOf(typ)
		for _, f := range shape.own {
			if !sec.mentions(f) {
				t.Errorf("%s: section %q does not document field `%s` of kind %q", outputDoc, sec.heading, f, kind)
			}
		}
		for _, f := range shape.embedded {
			if !sec.mentions(f) && !anySection(secs, "every row", f) {
				t.Errorf("%s: field `%s` of kind %q is documented neither in %q nor in a section about every row", outputDoc, f, kind, sec.heading)
			}
		}
		for holder, fields := range shape.nested {
			for _, f := range fields {
				if !sec.mentions(f) && !anySection(secs, "`"+holder+"`", f) {
					t.Errorf("%s: field `%s` of the objects in `%s` of kind %q is documented neither in %q nor in a section whose heading names `%s`", outputDoc, f, holder, kind, sec.heading, holder)
				}
			}
		}
	}
}

// TestOutputDocValues checks that docs/OUTPUT.md names every value of the
// JSON form's enumerations: row kinds, cause kinds, timers, verdicts,
// analysis flags and TCP states.
func TestOutputDocValues(t *testing.T) {
	doc := readOutputDoc(t)
	check := func(what string, names []string) {
		t.Helper()
		for _, n := range names {
			if !strings.Contains(doc, "`"+n+"`") && !strings.Contains(doc, `"`+n+`"`) {
				t.Errorf("%s: %s %q is not documented", outputDoc, what, n)
			}
		}
	}
	var kinds []string
	for _, k := range rowKinds() {
		kinds = append(kinds, k.String())
	}
	check("row kind", kinds)
	check("cause kind", causeKinds)
	var timers []string
	for k := event.TimerKind(0); !strings.HasPrefix(k.String(), "TimerKind("); k++ {
		timers = append(timers, k.String())
	}
	check("timer", timers)
	var verdicts []string
	for v := event.Verdict(1); !strings.HasPrefix(v.String(), "Verdict("); v++ {
		verdicts = append(verdicts, v.String())
	}
	check("verdict", verdicts)
	check("analysis flag", analysisNames)
	check("state", event.StateNames())
}
