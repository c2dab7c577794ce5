package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
)

// Shell completion: cobra's completion command writes the scripts; these
// functions give it tcplab's values.

// completeLabs completes a lab argument: the built-in names that start with
// what was typed, or else lab files (*.toml) and directories.
func completeLabs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var names []cobra.Completion
	if !strings.ContainsRune(toComplete, '/') {
		entries, err := labs.Catalogue()
		if err == nil {
			for _, en := range entries {
				if strings.HasPrefix(en.Name, toComplete) {
					names = append(names, cobra.CompletionWithDesc(en.Name, en.Title))
				}
			}
		}
	}
	if len(names) > 0 {
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	return []cobra.Completion{"toml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeBuiltins completes the name of a built-in lab only.
func completeBuiltins(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	entries, err := labs.Catalogue()
	if err != nil || len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []cobra.Completion
	for _, en := range entries {
		if strings.HasPrefix(en.Name, toComplete) {
			names = append(names, cobra.CompletionWithDesc(en.Name, en.Title))
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// flagValues are the values of the flags that take one of a few words.
func flagValues() map[string][]string {
	return map[string][]string{
		"format":  runFormats,
		"lang":    i18n.Langs,
		"pcap-at": pcapPoints,
		"topic":   topicNames(),
	}
}

// completeFlags registers the completion of every flag of cmd that takes
// one of a few words; --format gets the forms cmd itself accepts.
func completeFlags(cmd *cobra.Command, formats ...string) {
	values := flagValues()
	if len(formats) > 0 {
		values["format"] = formats
	}
	for name, vals := range values {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
	}
}
