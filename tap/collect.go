package tap

// Collector is a Sink that keeps every row it is given, in order: for
// tests, and for tools that want a whole (small) run in memory.
type Collector struct {
	Rows []*Row
}

var _ Sink = (*Collector)(nil)

// Row implements Sink.
func (c *Collector) Row(r *Row) error {
	c.Rows = append(c.Rows, r)
	return nil
}

// Segments returns the segment rows, in frame order.
func (c *Collector) Segments() []*Row {
	var out []*Row
	for _, r := range c.Rows {
		if r.Kind == KindSegment {
			out = append(out, r)
		}
	}
	return out
}
