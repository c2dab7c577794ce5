package hosts

import (
	"fmt"
	"strconv"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// App is one application on a host: a script of steps or a ready-made
// model. A host runs all its applications side by side from time zero.
type App struct {
	// Name labels the application's rows in the timeline; "" means "app1",
	// "app2"... by position (Config.Steps, when set, is app1). Rows carry
	// the label, as "[client#3] connect server:80", only when the host runs
	// more than one application or copy.
	Name string
	// Steps is the application's script.
	Steps []Step
	// Model is a ready-made application, instead of Steps.
	Model Model
	// Repeat runs Steps this many times in sequence (0 or 1: once). Each
	// round starts with no sockets: sockets a round leaves open stay open
	// but can no longer be named. At is absolute virtual time, so in later
	// rounds it has usually passed; use Sleep to pace rounds.
	Repeat int
	// Copies starts this many independent copies at once (0 or 1: one),
	// each with its own sockets, labelled name#1, name#2...
	Copies int
	// Options are socket options for every socket of a model, applied
	// after the host's defaults.
	Options Options
}

// newApps prepares the host's applications: Config.Steps first, then
// Config.Apps. A host with neither still runs one empty script, as hosts
// always have.
func (h *Host) newApps(cfg Config) error {
	apps := cfg.Apps
	if len(cfg.Steps) > 0 || len(apps) == 0 {
		apps = append([]App{{Steps: cfg.Steps}}, apps...)
	}
	labelled := len(apps) > 1
	for i, a := range apps {
		name := a.Name
		if name == "" {
			name = "app" + strconv.Itoa(i+1)
		}
		if err := a.Validate(); err != nil {
			return fmt.Errorf("host %s: app %s: %v", h.name, name, err)
		}
		if a.Copies > 1 {
			labelled = true
		}
	}
	for i, a := range apps {
		name := a.Name
		if name == "" {
			name = "app" + strconv.Itoa(i+1)
		}
		var starts []func()
		for k := range max(a.Copies, 1) {
			label := ""
			if labelled {
				label = name
				if a.Copies > 1 {
					label += "#" + strconv.Itoa(k+1)
				}
			}
			if a.Model != nil {
				starts = append(starts, h.newModel(a.Model, label, a.Options))
			} else {
				starts = append(starts, newScript(h, label, a.Steps, a.Repeat).step)
			}
		}
		h.starts = append(h.starts, func() {
			for _, start := range starts {
				start()
			}
		})
	}
	return nil
}

// outcome is what an application call came to: a result or an error, and
// the bytes it moved (-1 for a call that moves none).
type outcome struct {
	res   i18n.Msg
	err   *appErr
	bytes int
	// For a script's failed step: what the script does next, and the
	// steps a stop leaves unrun.
	onError event.OnError
	skipped int
	// info is a tcp_info step's snapshot.
	info *event.TCPInfo
}

// succeeded is the outcome of a call that succeeded and moved no bytes.
func succeeded(res i18n.Msg) outcome { return outcome{res: res, bytes: -1} }

// transferred is the outcome of a send or recv that moved n bytes.
func transferred(res i18n.Msg, n int) outcome { return outcome{res: res, bytes: n} }

// failedWith is the outcome of a call that failed and moved no bytes.
func failedWith(err *appErr) outcome { return outcome{err: err, bytes: -1} }

// report passes the outcome of an application's step to the observer: the
// step as written (code, the same in every language), the socket call op,
// and the outcome, labelled when the host runs several applications.
func (h *Host) report(label string, step i18n.Msg, op string, o outcome) {
	a := &event.App{At: h.now(), Host: h.name, Label: label, Step: step, Op: op, Result: o.res, Bytes: o.bytes,
		OnError: o.onError, Skipped: o.skipped, TCPInfo: o.info}
	if o.err != nil {
		a.Result, a.Err, a.Errno = i18n.Msg{}, o.err.msg, o.err.errno
	}
	h.obs.App(a)
}

// code is a step that is code, the same in every language: a script's step
// as written ("send \"hello\""), or a model's call and its peer ("close
// 10.0.0.1:40000").
func code(s string) i18n.Msg { return i18n.M("app.step", s) }
