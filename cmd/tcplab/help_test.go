package main

import (
	"io"
	"strings"
	"testing"
)

// TestHelpHasExamples checks that every command explains itself: a short
// and a long description, and examples that run tcplab.
func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(env{stdout: io.Discard, stderr: io.Discard})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Short == "" || c.Long == "" {
			t.Errorf("tcplab %s: needs Short and Long help", c.Name())
		}
		if !strings.Contains(c.Example, "tcplab "+c.Name()) {
			t.Errorf("tcplab %s: its examples do not show the command:\n%s", c.Name(), c.Example)
		}
	}
	if len(root.Commands()) < 7 {
		t.Errorf("only %d commands", len(root.Commands()))
	}
}
