# bash completion for ctlsign and ctlverify (installed as
# share/bash-completion/completions/ctlsign and .../ctlverify).
#
# Nothing is listed here: subcommands, options and what each option takes are read
# from the program's own --help ("ctlsign ctl create --help"), so the completion
# follows the program it completes. What an option takes comes from its argument
# name in the help: ...DIR -> directories; FILE, PATH, CERT, KEY, OUT, SIG -> files;
# a|b|c -> those words; MODE -> mixed non-secure; ALG -> sha512 sha256 sha1.

# The help text of "PROG WORDS... --help" (stdout and stderr).
_ctltools_help()
{
	"$@" --help 2>&1
}

# Subcommands listed in a help text: lines "  NAME   description".
_ctltools_subcommands()
{
	sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p' <<<"$1"
}

# Every long option in a help text, one per line, with its argument name if any
# occurrence shows one ("--cluster FILE", "--hash sha1|sha256|sha512", "--json").
_ctltools_options()
{
	grep -oE -- '--[a-z][a-z0-9-]*( [A-Z][A-Z0-9_.:<>-]*| [a-z0-9]+(\|[a-z0-9-]+)+)?' <<<"$1" |
		awk '!($1 in a) { n[++k] = $1; a[$1] = "" } $2 != "" && a[$1] == "" { a[$1] = $2 }
		     END { for (i = 1; i <= k; i++) print n[i] (a[n[i]] == "" ? "" : " " a[n[i]]) }'
}

_ctltools_complete()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local prog=${COMP_WORDS[0]} help subs opts arg w i
	local -a path=()
	local IFS=$'\n'

	[[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# The command path: leading words that the help above them lists as subcommands.
	help=$(_ctltools_help "$prog")
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ $w == -* ]] && break
		subs=$(_ctltools_subcommands "$help")
		grep -qxF -- "$w" <<<"$subs" || break
		path+=("$w")
		help=$(_ctltools_help "$prog" "${path[@]}")
	done
	opts=$(_ctltools_options "$help")

	# The argument of the option before the cursor.
	if [[ $prev == --* ]]; then
		arg=$(awk -v o="$prev" '$1 == o { print $2 }' <<<"$opts")
		if [[ -n $arg ]]; then
			case $arg in
			*\|*) COMPREPLY=($(compgen -W "${arg//|/$'\n'}" -- "$cur")) ;;
			*DIR*) COMPREPLY=($(compgen -d -- "$cur")) ;;
			*FILE* | *PATH* | *CERT* | *KEY* | *OUT* | *SIG*)
				COMPREPLY=($(compgen -f -- "$cur")) ;;
			MODE) COMPREPLY=($(compgen -W $'mixed\nnon-secure' -- "$cur")) ;;
			ALG) COMPREPLY=($(compgen -W $'sha512\nsha256\nsha1' -- "$cur")) ;;
			esac
			[[ $arg == *DIR* || $arg == *FILE* || $arg == *PATH* || $arg == *CERT* ||
				$arg == *KEY* || $arg == *OUT* || $arg == *SIG* ]] &&
				compopt -o filenames 2>/dev/null
			return 0
		fi
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$opts")" -- "$cur"))
		return 0
	fi
	# Right after the command path: its subcommands, if it has any.
	subs=$(_ctltools_subcommands "$help")
	if [[ -n $subs && $COMP_CWORD -eq $((${#path[@]} + 1)) ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		return 0
	fi
	# Otherwise a file operand.
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
	return 0
}

complete -F _ctltools_complete ctlsign ctlverify
