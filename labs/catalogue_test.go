package labs

import (
	"context"
	"github.com/tcplab/tcplab/i18n"
	"slices"
	"testing"
)

// TestBuiltinExpectations runs every built-in lab and checks that each has
// expectations and that they hold, under the lab's seed and four others.
func TestBuiltinExpectations(t *testing.T) {
	entries, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		t.Run(en.Name, func(t *testing.T) {
			lab, err := Builtin(en.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(lab.Expect) == 0 {
				t.Fatalf("built-in lab %s has no expectations", en.Name)
			}
			if lab.Description == "" || lab.Title == "" || lab.Topic == "" {
				t.Errorf("built-in lab %s needs a title, a topic and a description", en.Name)
			}
			for seed := uint64(1); seed <= 5; seed++ {
				run, err := Execute(context.Background(), lab, RunOptions{Seed: &seed})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range Check(run) {
					if !o.OK {
						t.Errorf("seed %d: %s: %s: %s", seed, o.Exp.Where, o.Exp, o.Message)
						for _, r := range o.Rows {
							t.Log(run.Tap.RowText(r, i18n.EN))
						}
					}
				}
			}
		})
	}
}

// TestBuiltinTopics checks that every built-in lab has one of ListTopics,
// that every one of them has a lab, and that ListTopics are valid topics in
// the order of Topics, so `tcplab list` shows each built-in lab once under
// one of six headings.
func TestBuiltinTopics(t *testing.T) {
	entries, err := Catalogue()
	if err != nil {
		t.Fatalf("Catalogue() = %v", err)
	}
	labsOf := map[string]int{}
	for _, en := range entries {
		labsOf[en.Topic]++
	}
	want := []string{"handshake", "close", "queues", "keepalive", "resets", "loss", "data"}
	var got []string
	for _, lt := range ListTopics {
		got = append(got, lt.Name)
		if lt.Summary == "" {
			t.Errorf("ListTopics: topic %q has no summary", lt.Name)
		}
		if labsOf[lt.Name] == 0 {
			t.Errorf("ListTopics: topic %q has no built-in lab", lt.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListTopics = %q, want %q", got, want)
	}
	if len(Topics) < len(got) || !slices.Equal(Topics[:len(got)], got) {
		t.Errorf("Topics = %q, want them to start with ListTopics %q", Topics, got)
	}
	for _, en := range entries {
		if !slices.Contains(want, en.Topic) {
			t.Errorf("built-in lab %s: topic %q, want one of %q", en.Name, en.Topic, want)
		}
	}
}
