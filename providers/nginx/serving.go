package nginx

import (
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"

	"github.com/slipwayhq/slipway/providers"
)

// filePeers returns the addresses a route file sends requests to, in
// either group, sorted and each once.
func filePeers(content []byte) []string {
	var peers []string
	if t, ok := fileTable(content); ok {
		peers = append(slices.Clone(t.Stable), t.Candidate...)
	} else {
		// A reload file lists each group's peers in its upstream blocks:
		// "    server 127.0.0.1:49153 max_fails=0;".
		for _, line := range strings.Split(string(content), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "server" && f[2] == "max_fails=0;" {
				peers = append(peers, f[1])
			}
		}
	}
	slices.Sort(peers)
	return slices.Compact(peers)
}

// serving finds out what nginx sends the requests of route file f (whose
// content is given) to now. A dynamic route that nginx has loaded reports
// its live table over the admin endpoint. Otherwise the route answers a
// confirmation probe with the release tag of what nginx loaded: the
// file's own tag means nginx routes as the file says; no answer on the
// port means nothing is served; another tag (a switch interrupted between
// writing the file and reloading, or between the two) is a routing that
// cannot be read back, reported as not Known. It returns nil when the file
// no longer says where the route listens.
func (n *Nginx) serving(ctx context.Context, f providers.RouteFile, content []byte, peers []string) *providers.Serving {
	if _, dynamic := fileTable(content); dynamic {
		if lt, err := n.admin(f.Project, f.Env, f.Service).get(ctx); err == nil {
			live := append(slices.Clone(lt.Stable), lt.Candidate...)
			slices.Sort(live)
			return &providers.Serving{Known: true, Tag: lt.Tag, Peers: slices.Compact(live)}
		}
	}
	spec, tag, ok := liveOf(content)
	if !ok {
		return nil
	}
	got, err := n.probeFor(spec).get(ctx)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &providers.Serving{Known: true}
	case err != nil:
		return &providers.Serving{}
	case got == tag:
		return &providers.Serving{Known: true, Tag: got, Peers: peers}
	case got == "":
		// Another server block answers on the port: not this route.
		return &providers.Serving{Known: true}
	}
	return &providers.Serving{Tag: got}
}
