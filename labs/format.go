package labs

// The lab file format. Every key is optional unless validation says
// otherwise; pointers tell "absent" from a zero value. docs/LABS.md is the
// reference; a test checks that it documents every key below.

// fileSpec is a lab file as written.
type fileSpec struct {
	Name        string          `toml:"name"`
	Title       string          `toml:"title"`
	Description string          `toml:"description"`
	Topic       string          `toml:"topic"`
	Seed        *int64          `toml:"seed"`
	TimeLimit   *Duration       `toml:"time_limit"`
	MaxEvents   *int64          `toml:"max_events"`
	Hosts       []hostSpec      `toml:"hosts"`
	Links       []linkSpec      `toml:"links"`
	Faults      []faultSpec     `toml:"faults"`
	Inject      []injectSpec    `toml:"inject"`
	Crashes     []crashSpec     `toml:"crashes"`
	Middleboxes []middleboxSpec `toml:"middleboxes"`
	Expect      []expectSpec    `toml:"expect"`
}

// hostSpec is one [[hosts]] table.
type hostSpec struct {
	Name    string     `toml:"name"`
	IPv4    string     `toml:"ipv4"`
	IPv6    string     `toml:"ipv6"`
	Profile string     `toml:"profile"`
	TCP     *tcpSpec   `toml:"tcp"`
	Steps   []stepSpec `toml:"steps"`
	Apps    []appSpec  `toml:"apps"`
}

// tcpSpec is a host's [hosts.tcp] table: its TCP settings, named after
// Linux's sysctls where there is one.
type tcpSpec struct {
	Somaxconn       *int64    `toml:"somaxconn"`
	SynCookies      *int64    `toml:"syncookies"`
	FinTimeout      *Duration `toml:"fin_timeout"`
	TimeWait        *Duration `toml:"time_wait"`
	Keepalive       *bool     `toml:"keepalive"`
	KeepaliveTime   *Duration `toml:"keepalive_time"`
	KeepaliveIntvl  *Duration `toml:"keepalive_intvl"`
	KeepaliveProbes *int64    `toml:"keepalive_probes"`
	MSS             *int64    `toml:"mss"`
	SendBuffer      *Size     `toml:"send_buffer"`
	RecvBuffer      *Size     `toml:"recv_buffer"`
	SACK            *bool     `toml:"sack"`
	Congestion      *string   `toml:"congestion"`
	RTOMin          *Duration `toml:"rto_min"`
	RTOMax          *Duration `toml:"rto_max"`
	Retries2        *int64    `toml:"retries2"`
	UserTimeout     *Duration `toml:"user_timeout"`
	Nagle           *bool     `toml:"nagle"`
	RTOGuard        *bool     `toml:"rto_guard"`
	// Settings of the linux profile (validate_linux.go).
	Kernel            *string  `toml:"kernel"`
	SynRetries        *int64   `toml:"tcp_syn_retries"`
	SynLinearTimeouts *int64   `toml:"tcp_syn_linear_timeouts"`
	SynAckRetries     *int64   `toml:"tcp_synack_retries"`
	AbortOnOverflow   *int64   `toml:"tcp_abort_on_overflow"`
	DSACK             *int64   `toml:"tcp_dsack"`
	WindowScaling     *int64   `toml:"tcp_window_scaling"`
	PortRange         *[]int64 `toml:"ip_local_port_range"`
	TWReuse           *int64   `toml:"tcp_tw_reuse"`
	DelayedAck        *bool    `toml:"delayed_ack"`
}

// stepSpec is one [[hosts.steps]] table.
type stepSpec struct {
	Do     string    `toml:"do"`
	At     *Duration `toml:"at"`
	Socket string    `toml:"socket"`
	From   string    `toml:"from"`
	// OnError is what the script does when the step fails (any action).
	OnError *string `toml:"on_error"`

	Port    *int64     `toml:"port"`
	Backlog *int64     `toml:"backlog"`
	To      string     `toml:"to"`
	Data    *string    `toml:"data"`
	Bytes   *Size      `toml:"bytes"`
	For     *Duration  `toml:"for"`
	Until   *string    `toml:"until"`
	Timeout *Duration  `toml:"timeout"`
	Each    []stepSpec `toml:"each"`

	// The options of a set step: those an app's options table takes, and
	// three more.
	optionSpec
	SendBuffer *Size  `toml:"send_buffer"`
	RecvBuffer *Size  `toml:"recv_buffer"`
	MSS        *int64 `toml:"mss"`
	QuickAck   *bool  `toml:"quickack"`
}

// appSpec is one [[hosts.apps]] table: a script or a ready-made model.
type appSpec struct {
	Name   string     `toml:"name"`
	Copies *int64     `toml:"copies"`
	Repeat *int64     `toml:"repeat"`
	Steps  []stepSpec `toml:"steps"`
	Model  string     `toml:"model"`

	Options *optionSpec `toml:"options"`
	// Params are the model's parameters, as written: the table's other
	// keys, which the model's type describes (hosts.ModelInfo), decoded
	// by validation.
	Params map[string]any `toml:",rest"`
}

// optionSpec is an app's [hosts.apps.options] table: socket options for
// every socket of a model.
type optionSpec struct {
	NoDelay           *bool     `toml:"nodelay"`
	KeepAlive         *bool     `toml:"keepalive"`
	KeepAliveIdle     *Duration `toml:"keepalive_idle"`
	KeepAliveInterval *Duration `toml:"keepalive_interval"`
	KeepAliveCount    *int64    `toml:"keepalive_count"`
	UserTimeout       *Duration `toml:"user_timeout"`
}

// linkSpec is one [[links]] table: how a host attaches to the switch. The
// keys at its top level apply to both directions; [links.out] (packets the
// host sends) and [links.in] (packets it receives) override them.
type linkSpec struct {
	Host string `toml:"host"`
	directionSpec
	Out  *directionSpec `toml:"out"`
	In   *directionSpec `toml:"in"`
	Down []windowSpec   `toml:"down"`
	// MTU is the link's MTU (both ways), and its host's NIC's.
	MTU *int64 `toml:"mtu"`
}

// directionSpec is the impairment of one direction of a link.
type directionSpec struct {
	Latency      *Duration `toml:"latency"`
	Jitter       *Duration `toml:"jitter"`
	Loss         *float64  `toml:"loss"`
	Duplicate    *float64  `toml:"duplicate"`
	Reorder      *float64  `toml:"reorder"`
	ReorderDelay *Duration `toml:"reorder_delay"`
	Corrupt      *float64  `toml:"corrupt"`
	Rate         *Rate     `toml:"rate"`
	QueueLimit   *int64    `toml:"queue_limit"`
}

// windowSpec is a span of virtual time: a link outage.
type windowSpec struct {
	From *Duration `toml:"from"`
	To   *Duration `toml:"to"`
}

// faultSpec is one [[faults]] table: a rule the switch applies to the
// segments it matches.
type faultSpec struct {
	Name       string    `toml:"name"`
	Action     string    `toml:"action"`
	From       string    `toml:"from"`
	To         string    `toml:"to"`
	Flags      *string   `toml:"flags"`
	Port       *int64    `toml:"port"`
	Connection *int64    `toml:"connection"`
	Nth        *int64    `toml:"nth"`
	Count      *int64    `toml:"count"`
	After      *Duration `toml:"after"`
	Before     *Duration `toml:"before"`
	Delay      *Duration `toml:"delay"`
	Until      *Duration `toml:"until"`
}

// injectSpec is one [[inject]] table: raw segments a host sends.
type injectSpec struct {
	Name      string    `toml:"name"`
	Via       string    `toml:"via"`
	At        *Duration `toml:"at"`
	Count     *int64    `toml:"count"`
	Interval  *Duration `toml:"interval"`
	From      string    `toml:"from"`
	To        string    `toml:"to"`
	Flags     *string   `toml:"flags"`
	Seq       *seqValue `toml:"seq"`
	SeqOffset *int64    `toml:"seq_offset"`
	Ack       *seqValue `toml:"ack"`
	Window    *int64    `toml:"window"`
	Data      *string   `toml:"data"`
}

// expectSpec is one [[expect]] table. Exactly one of segment, state,
// error, result, counter and stall says what it checks.
type expectSpec struct {
	Segment *string `toml:"segment"`
	State   *string `toml:"state"`
	Error   *string `toml:"error"`
	Result  *string `toml:"result"`
	Counter *string `toml:"counter"`
	Stall   *string `toml:"stall"`

	Host   string     `toml:"host"`
	Port   *int64     `toml:"port"`
	At     *Duration  `toml:"at"`
	After  *timeValue `toml:"after"`
	Before *timeValue `toml:"before"`
	Count  *int64     `toml:"count"`
	Min    *int64     `toml:"min"`
	Max    *int64     `toml:"max"`
	Why    string     `toml:"why"`

	// What narrows the rows counted (validate_expect.go): step and note
	// may also stand alone; the rest narrow a segment expectation.
	Step     *string    `toml:"step"`
	Note     *string    `toml:"note"`
	Len      *rangeSpec `toml:"len"`
	Window   *rangeSpec `toml:"window"`
	Seq      *rangeSpec `toml:"seq"`
	Ack      *rangeSpec `toml:"ack"`
	MSS      *rangeSpec `toml:"mss"`
	WS       *rangeSpec `toml:"ws"`
	SACKPerm *bool      `toml:"sack_perm"`
	SACK     *sackSpec  `toml:"sack"`
	DSACK    *bool      `toml:"dsack"`
	Analysis *string    `toml:"analysis"`
}

// crashSpec is one [[crashes]] table: a host that crashes and, unless
// reboot_after is absent, reboots (validate_crash.go).
type crashSpec struct {
	Host        string    `toml:"host"`
	At          *Duration `toml:"at"`
	RebootAfter *Duration `toml:"reboot_after"`
}

// middleboxSpec is one [[middleboxes]] table: a stateful box on a host's
// link that forgets idle flows (validate_crash.go).
type middleboxSpec struct {
	Name        string    `toml:"name"`
	Kind        string    `toml:"kind"`
	Link        string    `toml:"link"`
	IdleTimeout *Duration `toml:"idle_timeout"`
	OnForgotten string    `toml:"on_forgotten"`
}
