// Package segment parses TCP segments once, for everyone: the switch
// matches faults and tracks flows with it, hosts name what arrived, and the
// tap explains it. It holds the one Flags type and its names, FlagMatch for
// selecting segments by flags, and the one Segment type, whose sequence
// numbers are gVisor's seqnum.Value.
package segment
