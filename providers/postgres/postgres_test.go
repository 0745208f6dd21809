package postgres

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// trickyPassword has every character that needs encoding in a URL or
// escaping in a password file.
const trickyPassword = `p@ss:w/rd%4 x?y#z\q'"&=`

// passwordForms are the ways trickyPassword can be written.
func passwordForms(pw string) []string {
	return []string{pw, url.QueryEscape(pw), url.PathEscape(pw), strings.TrimPrefix(url.UserPassword("", pw).String(), ":")}
}

func assertNoPassword(t *testing.T, what, s, pw string) {
	t.Helper()
	for _, form := range passwordForms(pw) {
		if strings.Contains(s, form) {
			t.Errorf("%s contains the password (%q): %s", what, form, s)
		}
	}
}

func TestNewErrorsHideThePassword(t *testing.T) {
	enc := url.UserPassword("app", trickyPassword).String()
	tests := []struct {
		name string
		url  string
	}{
		{"bad port", "postgres://" + enc + "@localhost:notaport/db"},
		{"bad escape", "postgres://app:" + trickyPassword + "@localhost/db"},
		{"bad sslmode", "postgres://" + enc + "@localhost/db?sslmode=bogus"},
		{"password parameter", "postgres://app@localhost:x/db?password=" + url.QueryEscape(trickyPassword)},
		{"keyword/value", "host=localhost port=notaport password='" + strings.ReplaceAll(strings.ReplaceAll(trickyPassword, `\`, `\\`), `'`, `\'`) + "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{URL: tt.url})
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("New error = %v, want ErrBadURL", err)
			}
			assertNoPassword(t, "error", err.Error(), trickyPassword)
		})
	}
	if _, err := New(Options{URL: " "}); !errors.Is(err, ErrBadURL) {
		t.Errorf("empty url: error = %v, want ErrBadURL", err)
	}
}

func TestClean(t *testing.T) {
	p, err := New(Options{
		URL:  "postgres://" + url.UserPassword("app", trickyPassword).String() + "@127.0.0.1:1/db",
		Mask: func(s string) string { return strings.ReplaceAll(s, "other-secret", "(masked)") },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range passwordForms(trickyPassword) {
		got := p.clean("a " + form + " b other-secret")
		if got != "a (sensitive) b (masked)" {
			t.Errorf("clean(%q) = %q", form, got)
		}
	}
}

func TestToolConnString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"postgres://app:secret@db.example:5433/main?sslmode=require&application_name=x",
			"postgres://app@db.example:5433/main?application_name=x&sslmode=require"},
		{"postgresql://app@h/db?password=secret&pool_max_conns=4&statement_cache_capacity=1", "postgresql://app@h/db"},
		{"postgres:///db?host=/var/run/postgresql", "postgres:///db?host=%2Fvar%2Frun%2Fpostgresql"},
		{"host=h port=5433 user=app password='se cret' dbname=main", "host='h' port='5433' user='app' dbname='main'"},
		{`host=h dbname='it\'s'`, `host='h' dbname='it\'s'`},
	}
	for _, tt := range tests {
		got, err := toolConnString(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("toolConnString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestURLPasswords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"postgres://u:pw@h/db", []string{"pw"}},
		{"postgres://u:p@w@h/db", []string{"p@w"}},
		{"postgres://u@h/db?password=x&a=b", []string{"x"}},
		{"postgres://h/db", nil},
		{"user=u password='a b'", []string{"a b", "'a b'"}},
		{"user=u password=ab", []string{"ab", "ab"}},
	}
	for _, tt := range tests {
		got := urlPasswords(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("urlPasswords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClosed(t *testing.T) {
	p, err := New(Options{URL: "postgres://app@127.0.0.1:1/db"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := p.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
	if _, err := p.Backup(ctx, t.TempDir()+"/x.dump"); !errors.Is(err, ErrClosed) {
		t.Errorf("Backup after Close = %v, want ErrClosed", err)
	}
	if _, err := p.Migrate(ctx, nil, 1, "me"); !errors.Is(err, ErrClosed) {
		t.Errorf("Migrate after Close = %v, want ErrClosed", err)
	}
}

func TestRedacted(t *testing.T) {
	p, err := New(Options{URL: "postgres://" + url.UserPassword("app", trickyPassword).String() + "@db:5432/main?sslmode=require"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Redacted(), "postgres://app@db:5432/main?sslmode=require"; got != want {
		t.Errorf("Redacted = %q, want %q", got, want)
	}
}

// TestCleanShortPassword: a password shorter than redact.MinLen is not
// searched for in messages, where it would garble every word holding it.
func TestCleanShortPassword(t *testing.T) {
	p, err := New(Options{URL: "postgres://app:e@127.0.0.1:1/db"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.clean("relation example does not exist"); got != "relation example does not exist" {
		t.Errorf("clean = %q", got)
	}
}
