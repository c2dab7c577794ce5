package report

import "time"

// A series is one line of a graph over virtual time, kept in bounded
// memory while the run goes: exact points until it holds limit of them,
// then buckets of equal width in time, each with the first, lowest, highest
// and last value that fell into it. When the buckets overflow, their width
// doubles and neighbours merge, so a series of any length costs at most
// limit buckets and still shows every peak and trough.
type series struct {
	limit int
	width time.Duration // bucket width; 0 while points are exact
	pts   []bucket
	n     int // values added
}

// bucket is the values of one span of time [t, t+width), or one exact
// point when width is 0.
type bucket struct {
	t                     time.Duration
	first, lo, hi, last   float64
	tLast                 time.Duration // when last was added
	mark                  bool          // a value flagged by the caller (a retransmission)
	first2, lo2, hi2, la2 float64       // a second value (the end of a seq range)
}

func newSeries(limit int) *series { return &series{limit: max(limit, 8)} }

// add appends value v at t (t never decreases).
func (s *series) add(t time.Duration, v float64) { s.add2(t, v, v, false) }

// add2 appends a value with a second one (a range [v, v2]), marked or not.
func (s *series) add2(t time.Duration, v, v2 float64, mark bool) {
	s.n++
	if n := len(s.pts); n > 0 {
		b := &s.pts[n-1]
		if s.width > 0 && t-b.t < s.width || s.width == 0 && t == b.t && b.mark == mark && v == b.last && v2 == b.la2 {
			b.merge(bucket{t: t, first: v, lo: v, hi: v, last: v, tLast: t, mark: mark, first2: v2, lo2: v2, hi2: v2, la2: v2})
			return
		}
	}
	start := t
	if s.width > 0 {
		start = t - t%s.width
	}
	s.pts = append(s.pts, bucket{t: start, first: v, lo: v, hi: v, last: v, tLast: t, mark: mark, first2: v2, lo2: v2, hi2: v2, la2: v2})
	if len(s.pts) > s.limit {
		s.coarsen()
	}
}

// merge adds the later bucket o into b.
func (b *bucket) merge(o bucket) {
	b.lo, b.hi = min(b.lo, o.lo), max(b.hi, o.hi)
	b.lo2, b.hi2 = min(b.lo2, o.lo2), max(b.hi2, o.hi2)
	b.last, b.la2, b.tLast = o.last, o.la2, o.tLast
	b.mark = b.mark || o.mark
}

// coarsen doubles the bucket width (the first time: from the span of the
// points so far) until the buckets fit in half the limit.
func (s *series) coarsen() {
	for len(s.pts) > s.limit/2 {
		if s.width == 0 {
			span := s.pts[len(s.pts)-1].t - s.pts[0].t
			s.width = max(time.Nanosecond, span/time.Duration(s.limit/2))
		} else {
			s.width *= 2
		}
		out := s.pts[:0]
		for _, p := range s.pts {
			start := p.t - p.t%s.width
			if n := len(out); n > 0 && out[n-1].t == start {
				out[n-1].merge(p)
				continue
			}
			p.t = start
			out = append(out, p)
		}
		s.pts = out
	}
}

// span returns the first and last time of the series.
func (s *series) span() (from, to time.Duration, ok bool) {
	if len(s.pts) == 0 {
		return 0, 0, false
	}
	return s.pts[0].t, s.pts[len(s.pts)-1].tLast, true
}

// bounds returns the lowest and highest value (of both values).
func (s *series) bounds() (lo, hi float64, ok bool) {
	for i, p := range s.pts {
		if i == 0 {
			lo, hi = min(p.lo, p.lo2), max(p.hi, p.hi2)
			continue
		}
		lo, hi = min(lo, p.lo, p.lo2), max(hi, p.hi, p.hi2)
	}
	return lo, hi, len(s.pts) > 0
}
