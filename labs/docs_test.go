package labs

import (
	"context"
	"github.com/tcplab/tcplab/i18n"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/hosts"
)

// docBlocks returns the TOML examples of docs/LABS.md.
func docBlocks(t *testing.T) (string, []string) {
	t.Helper()
	data, err := os.ReadFile("../docs/LABS.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```toml\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) < 5 {
		t.Fatalf("docs/LABS.md has %d TOML examples; want one per section", len(blocks))
	}
	return string(data), blocks
}

// TestReferenceExamples loads and runs every example of the reference and
// checks that its expectations hold.
func TestReferenceExamples(t *testing.T) {
	_, blocks := docBlocks(t)
	for i, b := range blocks {
		lab, err := Load("LABS.md example", []byte(b))
		if err != nil {
			t.Errorf("example %d does not load:\n%v\n%s", i+1, err, b)
			continue
		}
		t.Run(lab.Name, func(t *testing.T) {
			run, err := Execute(context.Background(), lab, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(lab.Expect) == 0 {
				t.Fatalf("example %s has no expectation", lab.Name)
			}
			for _, o := range Check(run) {
				if !o.OK {
					t.Errorf("%s: %s", o.Exp, o.Message)
					for _, r := range o.Rows {
						t.Log(run.Tap.RowText(r, i18n.EN))
					}
				}
			}
		})
	}
}

// TestReferenceComplete checks that docs/LABS.md documents every key of the
// format, every action, model, event and profile.
func TestReferenceComplete(t *testing.T) {
	doc, _ := docBlocks(t)
	var keys []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] || rt.PkgPath() != reflect.TypeFor[fileSpec]().PkgPath() {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			if tag := f.Tag.Get("toml"); tag != "" && !strings.HasPrefix(tag, ",") {
				keys = append(keys, tag)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[fileSpec]())
	for _, k := range keys {
		if !strings.Contains(doc, "`"+k+"`") && !strings.Contains(doc, "[[hosts."+k+"]]") && !strings.Contains(doc, "[hosts."+k+"]") &&
			!strings.Contains(doc, "[[links."+k+"]]") && !strings.Contains(doc, "[links."+k+"]") && !strings.Contains(doc, "[["+k+"]]") &&
			!strings.Contains(doc, "[hosts.apps."+k+"]") {
			t.Errorf("docs/LABS.md does not document key %q", k)
		}
	}
	var words []string
	words = append(words, ModelNames()...)
	for _, a := range hosts.ActionNames() {
		words = append(words, "`"+a+"`")
	}
	for _, ev := range hosts.EventNames() {
		words = append(words, "`"+ev+"`")
	}
	words = append(words, StateNames...)
	words = append(words, Topics...)
	for _, w := range words {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/LABS.md does not mention %q", w)
		}
	}
}

// TestTemplate checks that the lab `tcplab new` writes loads, runs and
// passes its own expectations.
func TestTemplate(t *testing.T) {
	lab, err := Load("t.toml", []byte(Template("my-lab")))
	if err != nil {
		t.Fatal(err)
	}
	if lab.Name != "my-lab" {
		t.Errorf("name %q", lab.Name)
	}
	run, err := Execute(context.Background(), lab, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outs := Check(run)
	if len(outs) == 0 || Failed(outs) != 0 {
		t.Errorf("template expectations: %d of %d failed", Failed(outs), len(outs))
	}
}
