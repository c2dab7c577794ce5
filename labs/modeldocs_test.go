package labs

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/hosts"
)

// TestModelReference checks that docs/LABS.md holds the model reference
// derived from the models' types, and with -update writes it there.
func TestModelReference(t *testing.T) {
	const file = "../docs/LABS.md"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, modelDocBegin), strings.Index(doc, modelDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no model reference between %q and %q", file, modelDocBegin, modelDocEnd)
	}
	got := doc[i+len(modelDocBegin) : j]
	want := "\n\n" + modelReference() + "\n"
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(file, []byte(doc[:i+len(modelDocBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the model reference is not the one the models' types give; run go test ./labs -run TestModelReference -update\ngot:\n%s\nwant:\n%s", file, got, want)
}

// TestModelParams checks that every model parameter is documented, decodes
// and is checked: each one written with a value of the wrong type is
// reported at its position, and a model missing a required one says so.
func TestModelParams(t *testing.T) {
	for _, m := range hosts.Models() {
		for _, p := range m.Params {
			if p.Doc == "" {
				t.Errorf("model %s: parameter %s has no doc tag", m.Name, p.Key)
			}
			if p.Key == "backlog" && p.Default != "16" || hosts.DefaultBacklog != 16 {
				t.Errorf("model %s: backlog default %q, hosts.DefaultBacklog %d; want both 16", m.Name, p.Default, hosts.DefaultBacklog)
			}
			wrong := "{ x = 1 }" // a table fits no parameter
			src := lines(`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`, `[[hosts.apps]]`, `model = "`+m.Name+`"`, p.Key+" = "+wrong)
			_, err := Load("x.toml", []byte(src))
			if at := "x.toml:6:" + strconv.Itoa(len(p.Key)+4) + ": "; err == nil || !strings.Contains(err.Error(), at) {
				t.Errorf("model %s: %s = %s: Load = %v, want an error at %s", m.Name, p.Key, wrong, err, at)
			}
			if p.Required {
				src := lines(`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`, `[[hosts.apps]]`, `model = "`+m.Name+`"`)
				_, err := Load("x.toml", []byte(src))
				if want := `x.toml:4:1: model "` + m.Name + `" needs ` + p.Key; err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("model %s without %s: Load = %v, want %q", m.Name, p.Key, err, want)
				}
			}
		}
	}
}

// TestBacklogDefault checks that a listen step and a server model agree
// on the backlog: hosts.DefaultBacklog when left out, listen(0) for 0.
func TestBacklogDefault(t *testing.T) {
	for _, tt := range []struct {
		line string
		want int
	}{{"", hosts.DefaultBacklog}, {"backlog = 0", 0}, {"backlog = 3", 3}} {
		src := lines(`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`,
			`[[hosts.steps]]`, `do = "listen"`, `port = 80`, tt.line,
			`[[hosts.apps]]`, `model = "sink"`, `port = 81`, tt.line)
		lab, err := Load("x.toml", []byte(src))
		if err != nil {
			t.Fatalf("Load(%q) = %v", src, err)
		}
		h := lab.Hosts[0]
		sink, ok := h.Apps[0].Model.(*hosts.Sink)
		if !ok || h.Steps[0].Backlog != tt.want || sink.Backlog != tt.want {
			t.Errorf("with %q: listen step backlog %d, sink %+v; want both %d", tt.line, h.Steps[0].Backlog, h.Apps[0].Model, tt.want)
		}
	}
}
