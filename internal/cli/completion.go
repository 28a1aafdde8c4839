package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func completionCommand() *command {
	return &command{
		name:    "completion",
		summary: "print a shell completion script: hop completion bash|zsh|fish",
		usage:   "completion bash|zsh|fish",
		help: `Prints a script that completes hop's commands, subcommands and flags (and
file names for a flag's value) in that shell. It is made from the same
command definitions as --help, so it knows every command of this hop.

  bash:  source <(hop completion bash)          # in ~/.bashrc, or:
         hop completion bash > /etc/bash_completion.d/hop
  zsh:   hop completion zsh > "${fpath[1]}/_hop"  # then compinit
  fish:  hop completion fish > ~/.config/fish/completions/hop.fish`,
		run: runCompletion,
	}
}

func runCompletion(_ context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	t := completionTree(root())
	switch pos[0] {
	case "bash":
		return writeBash(e.stdout, t)
	case "zsh":
		return writeZsh(e.stdout, t)
	case "fish":
		return writeFish(e.stdout, t)
	}
	return usagef("%s: no completion for shell %q: give bash, zsh or fish%s", c.path, pos[0], didYouMean(pos[0], []string{"bash", "zsh", "fish"}))
}

// compNode is what completion knows of a command: its path after "hop"
// ("" for hop itself), its subcommands with their summaries, and its flags
// (valued: the flags that take a value).
type compNode struct {
	path          string
	subs, summary []string
	flags, valued []string
}

func completionTree(r *command) []compNode {
	var out []compNode
	summaries := map[string]string{}
	walkTree(r, "hop", func(n *node) {
		p := strings.TrimPrefix(strings.TrimPrefix(n.path, "hop"), " ")
		summaries[p] = n.cmd.summary
		cn := compNode{path: p, subs: n.subs}
		if n.fs != nil {
			n.fs.VisitAll(func(f *flag.Flag) {
				cn.flags = append(cn.flags, dashed(f.Name))
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
					cn.valued = append(cn.valued, dashed(f.Name))
				}
			})
			cn.flags = append(cn.flags, "--help")
		}
		if p == "" {
			cn.flags = []string{"--help", "--version"}
		}
		out = append(out, cn)
	})
	for i := range out {
		for _, s := range out[i].subs {
			sp := s
			if out[i].path != "" {
				sp = out[i].path + " " + s
			}
			out[i].summary = append(out[i].summary, summaries[sp])
		}
	}
	return out
}

// shCases writes the data functions that bash and zsh share: the
// subcommands and flags of each command path, whether a path is a
// command, and whether a flag of a path takes a value.
func shCases(w io.Writer, t []compNode) {
	fmt.Fprintf(w, "_hop_subs() {\n\tcase $1 in\n")
	for _, n := range t {
		if len(n.subs) > 0 {
			fmt.Fprintf(w, "\t%q) echo %q ;;\n", n.path, strings.Join(n.subs, " "))
		}
	}
	fmt.Fprintf(w, "\tesac\n}\n\n_hop_flags() {\n\tcase $1 in\n")
	for _, n := range t {
		if len(n.flags) > 0 {
			fmt.Fprintf(w, "\t%q) echo %q ;;\n", n.path, strings.Join(n.flags, " "))
		}
	}
	fmt.Fprintf(w, "\tesac\n}\n\n_hop_known() {\n\tcase $1 in\n")
	var known, valued []string
	for _, n := range t {
		if n.path != "" {
			known = append(known, fmt.Sprintf("%q", n.path))
		}
		for _, f := range n.valued {
			valued = append(valued, fmt.Sprintf("%q", strings.TrimPrefix(n.path+" "+f, " ")))
		}
	}
	sort.Strings(known)
	fmt.Fprintf(w, "\t%s) return 0 ;;\n\tesac\n\treturn 1\n}\n\n", strings.Join(known, "|"))
	fmt.Fprintf(w, "# _hop_valued PATH FLAG: whether FLAG of PATH takes a value.\n_hop_valued() {\n\tcase \"${1:+$1 }$2\" in\n")
	for i := 0; i < len(valued); i += 8 {
		fmt.Fprintf(w, "\t%s) return 0 ;;\n", strings.Join(valued[i:min(i+8, len(valued))], "|"))
	}
	fmt.Fprintf(w, "\tesac\n\treturn 1\n}\n\n")
	// _hop_path: the command path of the words before the cursor, given
	// as arguments.
	fmt.Fprint(w, `# _hop_path WORD...: the command path the words after "hop" name.
_hop_path() {
	local cmdpath="" prev="" w
	for w in "$@"; do
		if [[ $w == -- ]]; then
			cmdpath="--"
			break
		fi
		if [[ $w == -* ]]; then
			prev=$w
			continue
		fi
		if [[ -n $prev ]] && [[ $prev != *=* ]] && _hop_valued "$cmdpath" "$prev"; then
			prev=""
			continue
		fi
		prev=""
		# hop help CMD: help is left out, as in hop CMD --help.
		if [[ -n $cmdpath || $w != help ]] && _hop_known "${cmdpath:+$cmdpath }$w"; then
			cmdpath="${cmdpath:+$cmdpath }$w"
		fi
	done
	echo "$cmdpath"
}

`)
}

func writeBash(w io.Writer, t []compNode) error {
	fmt.Fprint(w, "# bash completion for hop, made by hop completion bash from hop's command definitions.\n\n")
	shCases(w, t)
	_, err := fmt.Fprint(w, `_hop() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmdpath IFS=$'\n'
	if ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD-1]}
	fi
	cmdpath=$(_hop_path "${COMP_WORDS[@]:1:COMP_CWORD-1}")
	COMPREPLY=()
	if [[ $cmdpath == -- ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ $prev == -* && $prev != *=* ]] && _hop_valued "$cmdpath" "$prev"; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ $cur == -* ]]; then
		IFS=' ' COMPREPLY=($(compgen -W "$(_hop_flags "$cmdpath")" -- "$cur"))
	else
		IFS=' ' COMPREPLY=($(compgen -W "$(_hop_subs "$cmdpath")" -- "$cur"))
		if ((${#COMPREPLY[@]} == 0)) && [[ -z $(_hop_subs "$cmdpath") || -n $cur ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
	fi
}
complete -o filenames -F _hop hop
`)
	return err
}

func writeZsh(w io.Writer, t []compNode) error {
	fmt.Fprint(w, "#compdef hop\n# zsh completion for hop, made by hop completion zsh from hop's command definitions.\n\n")
	shCases(w, t)
	_, err := fmt.Fprint(w, `_hop() {
	local cur=${words[CURRENT]} prev="" cmdpath
	if ((CURRENT > 2)); then
		prev=${words[CURRENT-1]}
	fi
	cmdpath=$(_hop_path "${(@)words[2,CURRENT-1]}")
	if [[ $cmdpath == -- ]]; then
		_files
	elif [[ $prev == -* && $prev != *=* ]] && _hop_valued "$cmdpath" "$prev"; then
		_files
	elif [[ $cur == -* ]]; then
		compadd -- ${=$(_hop_flags "$cmdpath")}
	elif [[ -n $(_hop_subs "$cmdpath") ]]; then
		compadd -- ${=$(_hop_subs "$cmdpath")}
	else
		_files
	fi
}

if [[ $funcstack[1] == _hop ]]; then
	_hop "$@"
else
	compdef _hop hop
fi
`)
	return err
}

// fishQuote quotes s for fish, in single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFish(w io.Writer, t []compNode) error {
	fmt.Fprint(w, "# fish completion for hop, made by hop completion fish from hop's command definitions.\n\n")
	fmt.Fprint(w, "function __hop_subs\n\tswitch $argv[1]\n")
	for _, n := range t {
		if len(n.subs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\tcase %s\n", fishQuote(n.path))
		for i, s := range n.subs {
			fmt.Fprintf(w, "\t\techo %s\n", fishQuote(s+"\t"+n.summary[i]))
		}
	}
	fmt.Fprint(w, "\tend\nend\n\nfunction __hop_flags\n\tswitch $argv[1]\n")
	for _, n := range t {
		if len(n.flags) > 0 {
			fmt.Fprintf(w, "\tcase %s\n\t\tprintf '%%s\\n' %s\n", fishQuote(n.path), strings.Join(n.flags, " "))
		}
	}
	var known, valued []string
	for _, n := range t {
		if n.path != "" {
			known = append(known, fishQuote(n.path))
		}
		for _, f := range n.valued {
			valued = append(valued, fishQuote(strings.TrimPrefix(n.path+" "+f, " ")))
		}
	}
	fmt.Fprintf(w, "\tend\nend\n\nfunction __hop_known\n\tcontains -- $argv[1] %s\nend\n\n", strings.Join(known, " "))
	fmt.Fprintf(w, "function __hop_valued\n\tcontains -- (string trim -- \"$argv[1] $argv[2]\") %s\nend\n\n", strings.Join(valued, " "))
	_, err := io.WriteString(w, `function __hop_path
	set -l cmdpath ''
	set -l prev ''
	set -l toks (commandline -opc)
	set -e toks[1]
	for w in $toks
		if test "$w" = '--'
			# the remote command's words: not hop's
			set cmdpath '@args'
			break
		end
		if string match -q -- '-*' $w
			set prev $w
			continue
		end
		if test -n "$prev"; and not string match -q -- '*=*' $prev; and __hop_valued "$cmdpath" $prev
			set prev ''
			continue
		end
		set prev ''
		set -l next (string trim -- "$cmdpath $w")
		# hop help CMD: help is left out, as in hop CMD --help.
		if test -n "$cmdpath" -o "$w" != help; and __hop_known $next
			set cmdpath $next
		end
	end
	printf '%s\n' "$cmdpath"
end

function __hop_complete
	set -l cmdpath (__hop_path)
	set -l cur (commandline -ct)
	set -l prev (commandline -opc)[-1]
	if test "$cmdpath" = '@args'
		__fish_complete_path $cur
	else if string match -q -- '-*' $prev; and __hop_valued "$cmdpath" $prev
		__fish_complete_path $cur
	else if string match -q -- '-*' $cur
		__hop_flags "$cmdpath"
	else
		set -l subs (__hop_subs "$cmdpath")
		if test (count $subs) -gt 0
			printf '%s\n' $subs
		else
			__fish_complete_path $cur
		end
	end
end

complete -c hop -f -a '(__hop_complete)'
`)
	return err
}
