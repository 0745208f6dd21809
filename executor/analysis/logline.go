package analysis

import (
	"bytes"
	"errors"
	"math"
)

// ErrBadLine is returned by ParseLine for a line that is not in the format
// of providers/nginx.LogFormatFields.
var ErrBadLine = errors.New("malformed access-log line")

// logFields is the number of tab-separated fields of an access-log line.
const logFields = 10

// Line is one parsed access-log line. Route and Version point into the
// line given to ParseLine and are valid only as long as it is.
type Line struct {
	// Time is the logged time_iso8601, in Unix seconds.
	Time int64
	// Group is GroupStable, GroupCandidate, or "" for any other value.
	Group string
	// Status is the response status.
	Status int
	// RequestTime is request_time in seconds.
	RequestTime float64
	// UpstreamTime is upstream_response_time in seconds, the sum when
	// several upstreams were tried; NaN when none was contacted ("-").
	UpstreamTime float64
	// Route is "<project>/<env>/<service>".
	Route []byte
	// Version is the group's version, "-" when unset.
	Version []byte
}

// ParseLine parses one access-log line, with or without its trailing
// newline, without allocating. The fields are those of
// providers/nginx.LogFormatFields: time_iso8601, group, status,
// request_time, upstream_response_time, request_method, request_uri,
// upstream_addr, route, version. It returns ErrBadLine when a field is
// missing or does not parse; a group other than stable or candidate is not
// an error (Group is then "").
func ParseLine(line []byte) (Line, error) {
	var l Line
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	var f [logFields][]byte
	for i := range logFields - 1 {
		j := bytes.IndexByte(line, '\t')
		if j < 0 {
			return Line{}, ErrBadLine
		}
		f[i], line = line[:j], line[j+1:]
	}
	if bytes.IndexByte(line, '\t') >= 0 {
		return Line{}, ErrBadLine
	}
	f[logFields-1] = line

	var ok bool
	if l.Time, ok = parseISO8601(f[0]); !ok {
		return Line{}, ErrBadLine
	}
	switch string(f[1]) {
	case GroupStable:
		l.Group = GroupStable
	case GroupCandidate:
		l.Group = GroupCandidate
	}
	if l.Status, ok = atoi3(f[2]); !ok {
		return Line{}, ErrBadLine
	}
	if l.RequestTime, ok = parseSeconds(f[3]); !ok {
		return Line{}, ErrBadLine
	}
	if l.UpstreamTime, ok = parseUpstreamTimes(f[4]); !ok {
		return Line{}, ErrBadLine
	}
	l.Route, l.Version = f[8], f[9]
	return l, nil
}

// Failed reports whether the request failed from the client's side: a
// 5xx, or a status below 100, which nginx logs as 000 when no response
// was sent at all.
func (l Line) Failed() bool { return l.Status >= 500 || l.Status < 100 }

// atoi3 parses a three-digit status.
func atoi3(b []byte) (int, bool) {
	if len(b) != 3 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// pow10 holds the divisors of up to 9 fraction digits.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// parseSeconds parses nginx's "12.345" (digits, an optional fraction of at
// most 9 digits).
func parseSeconds(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var ip, fp uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i >= 12 {
			return 0, false
		}
		ip = ip*10 + uint64(b[i]-'0')
	}
	if i == 0 {
		return 0, false
	}
	if i == len(b) {
		return float64(ip), true
	}
	if b[i] != '.' {
		return 0, false
	}
	frac := b[i+1:]
	if len(frac) == 0 || len(frac) >= len(pow10) {
		return 0, false
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		fp = fp*10 + uint64(c-'0')
	}
	return float64(ip) + float64(fp)/pow10[len(frac)], true
}

// parseUpstreamTimes parses upstream_response_time: "-", one time, or a
// list separated by ", " (upstreams tried in turn) or " : " (internal
// redirects). It returns the sum of the times, NaN when every entry is "-".
func parseUpstreamTimes(b []byte) (float64, bool) {
	sum, seen := 0.0, false
	for len(b) > 0 {
		j := bytes.IndexAny(b, ", :")
		var item []byte
		if j < 0 {
			item, b = b, nil
		} else {
			item, b = b[:j], b[j+1:]
		}
		if len(item) == 0 { // between two separators: ", " or " : "
			continue
		}
		if len(item) == 1 && item[0] == '-' {
			continue
		}
		v, ok := parseSeconds(item)
		if !ok {
			return 0, false
		}
		sum, seen = sum+v, true
	}
	if !seen {
		return math.NaN(), true
	}
	return sum, true
}

// parseISO8601 parses nginx's $time_iso8601, "2006-01-02T15:04:05+07:00"
// (or with "Z"), into Unix seconds without allocating.
func parseISO8601(b []byte) (int64, bool) {
	if len(b) != 25 && len(b) != 20 {
		return 0, false
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	offset := 0
	switch {
	case len(b) == 20 && b[19] == 'Z':
	case len(b) == 25 && (b[19] == '+' || b[19] == '-') && b[22] == ':':
		oh, ok1 := num(b[20:22])
		om, ok2 := num(b[23:25])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = oh*3600 + om*60
		if b[19] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return days*86400 + int64(hour*3600+minute*60+sec-offset), true
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here: four digits
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
