package field

import (
	"slices"
	"testing"
)

func TestAppendAndError(t *testing.T) {
	var dir List
	dir.Add("latency", "latency -1ms is negative")
	dir.AddWhole([]string{"jitter", "latency"}, "jitter 2ms is larger than latency 1ms")
	var link List
	link.Append("out", dir)
	link.AddKey("down.1", "outage 3s–end overlaps outage 1 (1s–5s)")
	var got []string
	for _, e := range link {
		got = append(got, e.Field)
	}
	if want := []string{"out.latency", "out", "down.1"}; !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	if w := link[1]; !w.Whole || !slices.Equal(w.Fields, []string{"out.jitter", "out.latency"}) {
		t.Errorf("whole problem after Append = %+v, want Whole with fields out.jitter, out.latency", w)
	}
	if !link[2].Key {
		t.Errorf("AddKey problem has Key false")
	}
	want := "out: latency -1ms is negative; jitter 2ms is larger than latency 1ms; down: outage 3s–end overlaps outage 1 (1s–5s)"
	if got := link.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if (List{}).Err() != nil || link.Err() == nil {
		t.Error("Err() of an empty list is not nil, or of a full one nil")
	}
}
