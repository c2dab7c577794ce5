package labs

import (
	"fmt"
	"strings"

	"github.com/tcplab/tcplab/hosts"
)

// Markers of the model reference in docs/LABS.md, which modelReference
// writes (go test ./labs -run TestModelReference -update).
const (
	modelDocBegin = "<!-- models: generated from the models' types (hosts/modelparams.go) by `go test ./labs -run TestModelReference -update`; edit the struct tags, not this table -->"
	modelDocEnd   = "<!-- end of models -->"
)

// modelReference returns the reference of the ready-made models: a table
// of the models and one of their parameters, derived from the models'
// types like everything else about their parameters.
func modelReference() string {
	var b strings.Builder
	b.WriteString("| model | parameters | behaviour |\n|---|---|---|\n")
	for _, m := range hosts.Models() {
		var ps []string
		for _, p := range m.Params {
			switch {
			case p.Required:
				ps = append(ps, fmt.Sprintf("`%s` (required)", p.Key))
			case p.Default != "":
				ps = append(ps, fmt.Sprintf("`%s` (%s)", p.Key, p.Default))
			default:
				ps = append(ps, fmt.Sprintf("`%s`", p.Key))
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", m.Name, strings.Join(ps, ", "), m.Doc)
	}
	b.WriteString("\nThe parameters:\n\n| model | parameter | type | default | meaning |\n|---|---|---|---|---|\n")
	for _, m := range hosts.Models() {
		for _, p := range m.Params {
			def := p.Default
			switch {
			case p.Required:
				def = "required"
			case def == "":
				def = "—"
			}
			kind := p.Kind.String()
			if p.Min > 0 {
				kind += fmt.Sprintf(" ≥ %d", p.Min)
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", m.Name, p.Key, kind, def, p.Doc)
		}
	}
	return b.String()
}
