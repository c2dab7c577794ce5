package i18n

// zh holds the Chinese texts, with the same keys as en.
var zh = map[string]string{}
