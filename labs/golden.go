package labs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tcplab/tcplab/i18n"
)

// GoldenLangs are the languages a lab's golden timelines are kept in.
var GoldenLangs = []i18n.Lang{i18n.EN, i18n.ZH}

// GoldenFile returns where the golden timeline in lang of the lab file at
// labFile lives: testdata/golden/NAME.LANG.txt in the lab file's directory,
// or golden/NAME.LANG.txt when that directory is itself in a testdata
// directory. labs/handshake.toml keeps its English golden timeline in
// labs/testdata/golden/handshake.en.txt, labs/testdata/truth/x.toml in
// labs/testdata/truth/golden/x.en.txt.
func GoldenFile(labFile string, lang i18n.Lang) string {
	dir, base := filepath.Split(labFile)
	name := strings.TrimSuffix(base, filepath.Ext(base)) + "." + lang.String() + ".txt"
	if slices.Contains(strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/"), "testdata") {
		return filepath.Join(dir, "golden", name)
	}
	return filepath.Join(dir, "testdata", "golden", name)
}

// Timeline returns the run's text timeline in lang as a golden file holds
// it: the lab's name, the hosts line and the listing, without colour, the
// end line or the expectations' results. The run must have been asked to
// render it (RunOptions.Timelines).
func Timeline(run *Run, lang i18n.Lang) ([]byte, error) {
	tl := run.timelines[lang]
	if tl == nil {
		return nil, fmt.Errorf("labs: the %s timeline of %s was not rendered (RunOptions.Timelines)", lang, run.Lab.Name)
	}
	return tl.buf.Bytes(), nil
}

// GoldenDiff compares a run's timeline in lang with the golden file. It
// returns "" when they are equal, and otherwise a message naming the file
// and quoting the first line that differs. A missing golden file is an
// error wrapping os.ErrNotExist.
func GoldenDiff(run *Run, lang i18n.Lang, file string) (string, error) {
	want, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	got, err := Timeline(run, lang)
	if err != nil {
		return "", err
	}
	if bytes.Equal(got, want) {
		return "", nil
	}
	return fmt.Sprintf("the %s timeline differs from %s at %s", lang, file, firstDiff(want, got)), nil
}

// WriteGolden writes the run's timeline in lang to file, creating its
// directory.
func WriteGolden(run *Run, lang i18n.Lang, file string) error {
	got, err := Timeline(run, lang)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, got, 0o644)
}

// firstDiff quotes the first line where two texts differ.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, wl, gl)
		}
	}
	return "the end (same lines, different bytes)"
}
