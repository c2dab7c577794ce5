package labs

// The lab file format. Every key is optional unless validation says
// otherwise; pointers tell "absent" from a zero value.

// fileSpec is a lab file as written.
type fileSpec struct {
	Name        string     `toml:"name"`
	Title       string     `toml:"title"`
	Description string     `toml:"description"`
	Seed        *int64     `toml:"seed"`
	TimeLimit   *Duration  `toml:"time_limit"`
	Hosts       []hostSpec `toml:"hosts"`
	Links       []linkSpec `toml:"links"`
}

// hostSpec is one [[hosts]] table.
type hostSpec struct {
	Name  string     `toml:"name"`
	IPv4  string     `toml:"ipv4"`
	IPv6  string     `toml:"ipv6"`
	Steps []stepSpec `toml:"steps"`
}

// stepSpec is one [[hosts.steps]] table.
type stepSpec struct {
	Do     string    `toml:"do"`
	At     *Duration `toml:"at"`
	Socket string    `toml:"socket"`
	From   string    `toml:"from"`

	Port    *int      `toml:"port"`
	Backlog *int      `toml:"backlog"`
	To      string    `toml:"to"`
	Data    *string   `toml:"data"`
	Bytes   *int      `toml:"bytes"`
	For     *Duration `toml:"for"`

	NoDelay           *bool     `toml:"nodelay"`
	KeepAlive         *bool     `toml:"keepalive"`
	KeepAliveIdle     *Duration `toml:"keepalive_idle"`
	KeepAliveInterval *Duration `toml:"keepalive_interval"`
	KeepAliveCount    *int      `toml:"keepalive_count"`
	SendBuffer        *int      `toml:"send_buffer"`
	RecvBuffer        *int      `toml:"recv_buffer"`
	MSS               *int      `toml:"mss"`
}

// linkSpec is one [[links]] table: how a host attaches to the switch. The
// keys at its top level apply to both directions; [links.out] (packets the
// host sends) and [links.in] (packets it receives) override them.
type linkSpec struct {
	Host string `toml:"host"`
	directionSpec
	Out *directionSpec `toml:"out"`
	In  *directionSpec `toml:"in"`
}

// directionSpec is the impairment of one direction of a link.
type directionSpec struct {
	Latency    *Duration `toml:"latency"`
	Jitter     *Duration `toml:"jitter"`
	Loss       *float64  `toml:"loss"`
	Rate       *Rate     `toml:"rate"`
	QueueLimit *int      `toml:"queue_limit"`
}
