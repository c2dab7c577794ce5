package i18n

// zh holds the Chinese texts, with the same keys as en.
var zh = map[string]string{
	// Output forms.
	"out.col.no":          "编号",
	"out.col.time":        "时间",
	"out.col.source":      "源",
	"out.col.destination": "目的",
	"out.col.flags":       "标志",
	"out.col.seq":         "Seq",
	"out.col.ack":         "Ack",
	"out.col.len":         "长度",
	"out.col.win":         "窗口",
	"out.col.options":     "选项",
	"out.col.notes":       "说明",
	"out.hosts":           "主机：%s",
	"out.hosts.sep":       "；",
	"out.seed":            "随机种子 %d",
	"out.end":             "运行结束于 %s 秒：%s",
	"out.stop.idle":       "没有待发生的事件了",
	"out.stop.timelimit":  "已到时间上限，%s 秒时仍有待处理的事件",
	"out.stop.eventlimit": "事件数超出上限（实验失控）",
	"out.stop.interrupt":  "已中断",
	"out.expect":          "预期检查：共 %[2]d 项，通过 %[1]d 项",
	"out.mmd.dropped":     "%s（被丢弃）",
	"out.mmd.gap":         "%s 之后（t = %s 秒）",
	"out.mmd.app":         "应用：%s",
	"out.mmd.app.err":     "应用：%s → 出错：%s",
	"out.mmd.queue":       "全连接队列 %d/%d，半连接 %d",
	"out.mmd.packet":      "第 %d 帧：%s",
}
