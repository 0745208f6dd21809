package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrRejected is wrapped by the error Activate returns when nginx rejects
// the configuration ("nginx -t" fails).
var ErrRejected = errors.New("nginx rejected the configuration")

// ErrReloadFailed is wrapped by the error Activate returns when the reload
// command fails.
var ErrReloadFailed = errors.New("nginx reload failed")

// Switcher makes the route files on disk live. Reload is implemented here;
// a later issue adds "dynamic" through nginx's Lua module.
//
// Activate validates the whole configuration and makes it live. It returns
// an error wrapping ErrRejected (the configuration is invalid: nothing
// changed) or ErrReloadFailed, with nginx's own output in a *CommandError.
// It honours ctx.
type Switcher interface {
	// Name is the mode shown to users: "reload" or "dynamic".
	Name() string
	// Activate validates and makes the configuration on disk live.
	Activate(ctx context.Context) error
}

// CommandError is a failed nginx command with its own output.
type CommandError struct {
	Args   []string // the command line
	Output string   // what nginx printed (stderr and stdout), trimmed
	Kind   error    // ErrRejected or ErrReloadFailed
	Err    error    // the exec error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%v: run %q: %v", e.Kind, strings.Join(e.Args, " "), e.Err)
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return msg
}

// Unwrap returns the kind and the exec error, so errors.Is matches both.
func (e *CommandError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Reload is the switcher that runs "<Binary> [-p Prefix] [-c Conf] -t" and
// then "... -s reload".
type Reload struct {
	Binary string // default "nginx"
	Prefix string // passed as -p when set
	Conf   string // passed as -c when set
}

// Name returns "reload".
func (r *Reload) Name() string { return "reload" }

// Activate validates the configuration with "nginx -t", then signals nginx
// to reload it. Reload is asynchronous in nginx: the caller confirms that
// the new configuration answers.
func (r *Reload) Activate(ctx context.Context) error {
	if _, err := r.Test(ctx); err != nil {
		return err
	}
	if _, err := r.run(ctx, ErrReloadFailed, "-s", "reload"); err != nil {
		return err
	}
	return nil
}

// Test runs "nginx -t" and returns its output (warnings included) or a
// *CommandError wrapping ErrRejected.
func (r *Reload) Test(ctx context.Context) (string, error) {
	return r.run(ctx, ErrRejected, "-t")
}

func (r *Reload) run(ctx context.Context, kind error, args ...string) (string, error) {
	bin := r.Binary
	if bin == "" {
		bin = "nginx"
	}
	var full []string
	if r.Prefix != "" {
		full = append(full, "-p", r.Prefix)
	}
	if r.Conf != "" {
		full = append(full, "-c", r.Conf)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	output := strings.TrimSpace(out.String())
	if err != nil {
		return output, &CommandError{Args: append([]string{bin}, full...), Output: output, Kind: kind, Err: err}
	}
	return output, nil
}

var _ Switcher = (*Reload)(nil)

// ErrorLog returns the file nginx's master writes its errors to: the
// first error_log at the top level of the main configuration ("nginx -T"),
// else the compiled-in default ("nginx -V"), relative paths taken from the
// prefix. It returns "" when the log is not a file (stderr, syslog,
// memory) or cannot be found out.
func (r *Reload) ErrorLog(ctx context.Context) string {
	return r.mainPath(ctx, "error_log", "--error-log-path", "logs/error.log")
}

// PIDFile returns the file nginx's master writes its pid to, found as
// ErrorLog finds the error log, or "" when it cannot be found out.
func (r *Reload) PIDFile(ctx context.Context) string {
	return r.mainPath(ctx, "pid", "--pid-path", "logs/nginx.pid")
}

// mainPath returns the path the top-level directive of the main
// configuration names, or the binary's compiled-in option, or def, made
// absolute against the prefix.
func (r *Reload) mainPath(ctx context.Context, directive, option, def string) string {
	var path string
	if dump, err := r.run(ctx, ErrRejected, "-T"); err == nil {
		if args := mainDirectives(dump)[directive]; len(args) > 0 && len(args[0]) > 0 {
			path = args[0][0]
		}
	}
	version, err := (&Reload{Binary: r.Binary}).run(ctx, ErrRejected, "-V")
	if err != nil && !filepath.IsAbs(path) {
		return "" // no binary to ask: nothing is known
	}
	if path == "" {
		path = configureOption(version, option)
	}
	if path == "" {
		path = def
	}
	if path == "stderr" || strings.Contains(path, ":") && !filepath.IsAbs(path) {
		return "" // stderr, syslog:..., memory:...
	}
	if filepath.IsAbs(path) {
		return path
	}
	prefix := r.Prefix
	if prefix == "" {
		prefix = configureOption(version, "--prefix")
	}
	if prefix == "" {
		prefix = "/usr/local/nginx"
	}
	return filepath.Join(prefix, path)
}

// configureOption returns the value of a "--name=value" configure argument
// in "nginx -V" output, or "".
func configureOption(version, name string) string {
	for _, f := range strings.Fields(version) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return strings.Trim(v, `'"`)
		}
	}
	return ""
}

// mainDirectives returns the arguments of each directive at the top level
// of the main configuration file in "nginx -T" output (the first
// "# configuration file" section), by name, in order. Blocks and included
// files are skipped.
func mainDirectives(dump string) map[string][][]string {
	const header = "# configuration file "
	lines := strings.Split(dump, "\n")
	start := -1
	var main []string
	for i, l := range lines {
		if strings.HasPrefix(l, header) {
			if start >= 0 {
				break
			}
			start = i
			continue
		}
		if start >= 0 {
			main = append(main, l)
		}
	}
	out := map[string][][]string{}
	depth := 0
	var words []string
	var word strings.Builder
	inWord, quote := false, byte(0)
	flush := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	src := strings.Join(main, "\n")
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(src) {
				i++
				word.WriteByte(src[i])
			} else if c == quote {
				quote = 0
			} else {
				word.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == '#':
			flush()
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';':
			flush()
			if depth == 0 && len(words) > 0 {
				out[words[0]] = append(out[words[0]], words[1:])
			}
			words = nil
		case c == '{':
			flush()
			depth++
			words = nil
		case c == '}':
			flush()
			if depth > 0 {
				depth--
			}
			words = nil
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	return out
}

// logTimeLayout is the time at the start of each nginx error log line, in
// the host's local time.
const logTimeLayout = "2006/01/02 15:04:05"

// logTail bounds how much of the end of the error log is read.
const logTail = 64 << 10

// newestLogError returns the newest "[emerg]" or "[alert]" line nginx wrote
// to the error log at path at or after since, "" when there is none. It
// prefers a line saying what failed to nginx's summary "still could not
// bind()", which follows the bind() lines.
func newestLogError(path string, since time.Time) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(info.Size()-logTail, 0)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	since = since.Truncate(time.Second)
	lines := strings.Split(string(buf), "\n")
	summary := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if len(l) < len(logTimeLayout) {
			continue
		}
		t, err := time.ParseInLocation(logTimeLayout, l[:len(logTimeLayout)], time.Local)
		if err != nil {
			continue
		}
		if t.Before(since) {
			break
		}
		if !strings.Contains(l, "[emerg]") && !strings.Contains(l, "[alert]") {
			continue
		}
		if strings.Contains(l, "still could not bind()") {
			if summary == "" {
				summary = l
			}
			continue
		}
		return l
	}
	return summary
}

// errorLogger is a switcher that knows where nginx logs its errors.
type errorLogger interface {
	ErrorLog(ctx context.Context) string
}

// logError returns nginx's newest error since since, from its error log,
// as a clause to add to a message ("nginx's error log PATH says: LINE"),
// and the line alone; both "" when the switcher cannot say or nginx
// logged none.
func (n *Nginx) logError(ctx context.Context, since time.Time) (clause, line string) {
	el, ok := n.switcher.(errorLogger)
	if !ok || since.IsZero() {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	path := el.ErrorLog(ctx)
	if path == "" {
		return "", ""
	}
	if line = newestLogError(path, since); line == "" {
		return "", ""
	}
	return fmt.Sprintf("nginx's error log %s says: %s", path, line), line
}

// withLogError adds nginx's newest error since since to err, unless err
// already quotes it.
func (n *Nginx) withLogError(ctx context.Context, since time.Time, err error) error {
	clause, line := n.logError(ctx, since)
	if clause == "" || strings.Contains(err.Error(), line) {
		return err
	}
	return fmt.Errorf("%w\n%s", err, clause)
}
