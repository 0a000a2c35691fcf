/**
 * The shell scripts `modelctl completion <shell>` prints. Each one only forwards the words
 * typed so far to the hidden `modelctl __complete -- <words…>` and offers what it prints
 * (one candidate a line); when it prints nothing, the shell completes file names instead.
 */

/** The shells a script exists for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
/** A shell `modelctl completion` writes a script for. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const BASH = `# modelctl completion for bash.
# Load it now:      source <(modelctl completion bash)
# Load it always:   modelctl completion bash > ~/.local/share/bash-completion/completions/modelctl
_modelctl_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local -a candidates
  candidates=( $(modelctl __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
  if [ \${#candidates[@]} -eq 0 ]; then
    # Nothing from modelctl: a path is expected, so complete file names.
    compopt -o default 2>/dev/null
    COMPREPLY=()
    return 0
  fi
  COMPREPLY=( "\${candidates[@]}" )
  # A reference stops at "model@" so the selector can follow without a space.
  if [ \${#COMPREPLY[@]} -eq 1 ] && [ "\${COMPREPLY[0]: -1}" = "@" ]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -o bashdefault -F _modelctl_complete modelctl
`;

const ZSH = `#compdef modelctl
# modelctl completion for zsh.
# Load it now:      source <(modelctl completion zsh)        (after compinit)
# Load it always:   modelctl completion zsh > "\${fpath[1]}/_modelctl"
_modelctl() {
  local -a candidates with_space without_space
  candidates=( \${(f)"$(modelctl __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)"} )
  if (( \${#candidates} == 0 )); then
    _files
    return
  fi
  local c
  for c in "\${candidates[@]}"; do
    if [[ "$c" == *@ ]]; then without_space+=( "$c" ); else with_space+=( "$c" ); fi
  done
  (( \${#with_space} )) && compadd -Q -- "\${with_space[@]}"
  # A reference stops at "model@" so the selector can follow without a space.
  (( \${#without_space} )) && compadd -Q -S '' -- "\${without_space[@]}"
  return 0
}
if [ "$funcstack[1]" = "_modelctl" ]; then
  _modelctl "$@"
else
  compdef _modelctl modelctl
fi
`;

const FISH = `# modelctl completion for fish.
# Load it now:      modelctl completion fish | source
# Load it always:   modelctl completion fish > ~/.config/fish/completions/modelctl.fish
function __modelctl_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l current (commandline -ct)
    set -l candidates (modelctl __complete -- $tokens "$current" 2>/dev/null)
    if test (count $candidates) -eq 0
        __fish_complete_path "$current"
    else
        printf '%s\\n' $candidates
    end
end
complete -c modelctl -f -a '(__modelctl_complete)'
`;

/** The completion script for `shell`. */
export function completionScript(shell: CompletionShell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}
