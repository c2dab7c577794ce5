package tap

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
)

// fmtVerb matches a verb of a format: "%d", "%[2]s", "%-5v"; "%%" is none.
var fmtVerb = regexp.MustCompile(`%(%|(\[(\d+)\])?[-+# 0-9.]*[a-zA-Z])`)

// verbArgs returns how many arguments format takes.
func verbArgs(format string) int {
	n, next := 0, 0
	for _, m := range fmtVerb.FindAllStringSubmatch(format, -1) {
		if m[1] == "%" {
			continue
		}
		if m[3] != "" {
			next, _ = strconv.Atoi(m[3])
		} else {
			next++
		}
		n = max(n, next)
	}
	return n
}

// TestMessageArgs reads the package's source and checks every message it
// makes with a literal key (i18n.M("key", ...) and r.note("key", ...)):
// the key has a text in every language, and the call gives as many
// arguments as each text takes. The sample renders only some messages;
// this covers the others.
func TestMessageArgs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 || call.Ellipsis.IsValid() {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch {
			case sel.Sel.Name == "M" && isIdent(sel.X, "i18n"):
			case sel.Sel.Name == "note":
			default:
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			calls++
			pos := fset.Position(call.Pos())
			for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
				if !i18n.Has(lang, key) {
					t.Errorf("%s: %q has no %s text", pos, key, lang)
					continue
				}
				if want, got := verbArgs(i18n.Format(lang, key)), len(call.Args)-1; got != want {
					t.Errorf("%s: %q given %d arguments, its %s text takes %d: %q", pos, key, got, lang, want, i18n.Format(lang, key))
				}
			}
			return true
		})
	}
	// Keys made at run time: their arguments are given in one place each.
	dynamic := map[string]int{}
	for _, k := range verdicts {
		dynamic[k[0]] = 0 // verdictMsg
		dynamic[k[1]] = 4 // received: host, flags, frame, sender
	}
	for _, k := range timerNames {
		dynamic[k] = 0 // timerName
	}
	for _, k := range i18n.Keys() {
		if strings.HasPrefix(k, "ctr.") {
			dynamic[k] = 1 // counters: the counter's name
		}
	}
	for key, want := range dynamic {
		for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
			if !i18n.Has(lang, key) {
				t.Errorf("%q has no %s text", key, lang)
			} else if got := verbArgs(i18n.Format(lang, key)); got != want {
				t.Errorf("%q is given %d arguments, its %s text takes %d: %q", key, want, lang, got, i18n.Format(lang, key))
			}
		}
	}
	if calls < 100 {
		t.Errorf("found %d messages with a literal key in the package's source, want the hundred or more it makes", calls)
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func TestVerbArgs(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"100%% sure", 0},
		{"%s has %d", 2},
		{"%[2]s then %[1]s", 2},
		{"%[1]s and %[3]d", 3},
		{"%-5v|%q", 2},
	}
	for _, tt := range tests {
		if got := verbArgs(tt.in); got != tt.want {
			t.Errorf("verbArgs(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
