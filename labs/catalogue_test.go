package labs

import (
	"context"
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
							t.Log(run.Tap.RowText(r))
						}
					}
				}
			}
		})
	}
}
