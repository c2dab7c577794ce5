package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/topology"
)

// TestOutputDocLabEnd checks that docs/OUTPUT.md documents every field of
// the lab and end objects of the JSON form, as tap/outputdoc_test.go does
// for the rows: the field names come from the json tags of jsonLab and
// jsonEnd (and of the objects they hold), and each must be named as code
// (`field`) in the object's section, whose heading names the kind
// ("### `lab` — the first line"). It also checks the end object's stop
// reasons.
func TestOutputDocLabEnd(t *testing.T) {
	b, err := os.ReadFile("../../docs/OUTPUT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, o := range []struct {
		kind string
		v    any
	}{{"lab", jsonLab{}}, {"end", jsonEnd{}}, {"capture", jsonCapture{}}, {"conn", jsonConn{}}, {"end", jsonCaptureEnd{}}} {
		kind, v := o.kind, o.v
		sec, ok := docObjectSection(doc, kind)
		if !ok {
			t.Errorf("docs/OUTPUT.md: no section for the %q object (a heading \"### `%s` — ...\")", kind, kind)
			continue
		}
		for _, f := range jsonFieldNames(reflect.TypeOf(v)) {
			if !strings.Contains(sec, "`"+f+"`") {
				t.Errorf("docs/OUTPUT.md: the section of the %q object does not document field `%s`", kind, f)
			}
		}
	}
	end, _ := docObjectSection(doc, "end")
	for r := topology.StopReason(0); !strings.HasPrefix(r.String(), "StopReason("); r++ {
		if name := stopName(r); !strings.Contains(end, "`"+name+"`") {
			t.Errorf("docs/OUTPUT.md: the end object's stop reason `%s` is not documented", name)
		}
	}
}

// docObjectSection returns the text of the "###" section of doc whose
// heading names kind as code before its dash, up to the next "##" or "###"
// heading; lines in fenced code blocks are never headings.
func docObjectSection(doc, kind string) (string, bool) {
	var sec strings.Builder
	in, found, fenced := false, false, false
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && (strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ")) {
			title, _, _ := strings.Cut(line, " — ")
			in = strings.HasPrefix(title, "### ") && strings.Contains(title, "`"+kind+"`")
			found = found || in
		}
		if in {
			sec.WriteString(line)
		}
	}
	return sec.String(), found
}

// jsonFieldNames returns the json names of the fields of struct type t and
// of the objects its fields hold, in order; embedded structs' fields count
// as t's own.
func jsonFieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if f.Anonymous {
			names = append(names, jsonFieldNames(ft)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
		if ft.Kind() == reflect.Struct {
			names = append(names, jsonFieldNames(ft)...)
		}
	}
	return names
}

// TestOutputDocCommands checks that docs/OUTPUT.md documents every field
// of the JSON forms of list, validate and test.
func TestOutputDocCommands(t *testing.T) {
	b, err := os.ReadFile("../../docs/OUTPUT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for kind, v := range map[string]any{"list": jsonListLab{}, "validate": jsonValidated{}, "test": jsonTestLab{}, "summary": jsonTestSummary{}} {
		sec, ok := docObjectSection(doc, kind)
		if !ok {
			t.Errorf("docs/OUTPUT.md: no section for the %q object (a heading \"### `%s` — ...\")", kind, kind)
			continue
		}
		for _, f := range jsonFieldNames(reflect.TypeOf(v)) {
			if !strings.Contains(sec, "`"+f+"`") {
				t.Errorf("docs/OUTPUT.md: the section of the %q object does not document field `%s`", kind, f)
			}
		}
	}
	test, _ := docObjectSection(doc, "test")
	for s := statusPass; s <= statusInvalid; s++ {
		if !strings.Contains(test, "`"+s.name()+"`") {
			t.Errorf("docs/OUTPUT.md: the test object's status `%s` is not documented", s.name())
		}
	}
}
