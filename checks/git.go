package checks

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// gitSpec is a git check on the work tree at dir (default the
// configuration directory): with clean (default true) no tracked file is
// modified or staged; unless untracked (default false) is true, no
// untracked file exists (ignored files do not count); with branch, HEAD is
// on that branch.
type gitSpec struct {
	dir, branch      string
	clean, untracked bool
}

func parseGit(a *attrs) runFunc {
	s := gitSpec{dir: a.str("dir", false), branch: a.str("branch", false), clean: a.boolean("clean", true), untracked: a.boolean("untracked", false)}
	return s.run
}

func (s gitSpec) run(ctx context.Context, env *Env) (string, error) {
	dir := resolve(env.Dir, s.dir)
	if dir == "" {
		dir = env.Dir
	}
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(append([]string(nil), env.Environ...), "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return "", fmt.Errorf("git %s in %s: %s", args[0], dir, msg)
		}
		return string(out), nil
	}
	branch, err := git("rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return "", err
	}
	branch = strings.TrimSpace(branch)
	commit, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return "", err
	}
	status, err := git("status", "--porcelain=v1", "--untracked-files=all")
	if err != nil {
		return "", err
	}
	var modified, untracked []string
	for _, line := range strings.Split(strings.TrimRight(status, "\n"), "\n") {
		if len(line) < 4 {
			continue
		}
		if strings.HasPrefix(line, "??") {
			untracked = append(untracked, line[3:])
		} else {
			modified = append(modified, line[3:])
		}
	}
	ev := fmt.Sprintf("%s at %s, %d modified, %d untracked", branch, strings.TrimSpace(commit), len(modified), len(untracked))
	var problems []string
	if s.branch != "" && branch != s.branch {
		problems = append(problems, fmt.Sprintf("on branch %q, want %q", branch, s.branch))
	}
	if s.clean && len(modified) > 0 {
		problems = append(problems, "uncommitted changes: "+listSome(modified, 5))
	}
	if !s.untracked && len(untracked) > 0 {
		problems = append(problems, "untracked files: "+listSome(untracked, 5))
	}
	if len(problems) > 0 {
		return ev, fmt.Errorf("work tree %s: %s", dir, strings.Join(problems, "; "))
	}
	return ev, nil
}

// listSome lists at most n items, saying how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
