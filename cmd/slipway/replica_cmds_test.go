package main

// Script commands for a replica that dies: kill a container's main process
// from the host as an out-of-memory kill or a segfault would, watch it
// come back, and check from the access log that every request stayed in
// its group.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// dockerClient connects to the engine the scripts use.
func dockerClient(ts *testscript.TestScript) *client.Client {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	ts.Check(err)
	return cli
}

// publishedAddr is the loopback address of a running container's first
// published tcp port, "" when none.
func publishedAddr(in container.InspectResponse) string {
	if in.NetworkSettings == nil {
		return ""
	}
	for _, bs := range in.NetworkSettings.Ports {
		for _, b := range bs {
			if b.HostPort != "" && b.HostPort != "0" {
				return "127.0.0.1:" + b.HostPort
			}
		}
	}
	return ""
}

// kill9 NAME [-gone] kills the main process of container NAME with
// SIGKILL from the host (its host pid, as an out-of-memory kill would do;
// not 'docker kill', which the engine takes for a wish to stop it and so
// ignores its restart policy), then waits, up to a minute, until it runs
// again on the same address and nginx's access log shows a 2xx answered
// by it. It prints how long each took and the restart count. With -gone
// it only kills and prints the container's state 10 s later (for a
// container that is not restarted).
func cmdKill9(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "-gone") {
		ts.Fatalf("usage: kill9 NAME [-gone]")
	}
	name := args[0]
	cli := dockerClient(ts)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in, err := cli.ContainerInspect(ctx, name)
	ts.Check(err)
	addr := publishedAddr(in)
	if in.State == nil || !in.State.Running || in.State.Pid == 0 || addr == "" {
		ts.Fatalf("kill9: %s is not running with a published port", name)
	}
	offset := logSize(ts)
	killed := time.Now()
	ts.Check(syscall.Kill(in.State.Pid, syscall.SIGKILL))
	if len(args) == 2 {
		time.Sleep(10 * time.Second)
		in, err = cli.ContainerInspect(ctx, name)
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "kill9: killed %s (pid %d); 10s later it is %s, restart count %d\n", name, in.State.Pid, in.State.Status, in.RestartCount)
		return
	}
	var running, serving time.Duration
	deadline := killed.Add(time.Minute)
	for running == 0 {
		if time.Now().After(deadline) {
			ts.Fatalf("kill9: %s did not run again within a minute of kill -9", name)
		}
		time.Sleep(20 * time.Millisecond)
		now, err := cli.ContainerInspect(ctx, name)
		ts.Check(err)
		if now.State == nil || !now.State.Running || now.RestartCount == in.RestartCount {
			continue
		}
		got := publishedAddr(now)
		if got == "" {
			continue // its port is being published
		}
		if got != addr {
			ts.Fatalf("kill9: %s runs again on %s, was %s: nginx still routes to the old address", name, got, addr)
		}
		running = time.Since(killed)
		in = now
	}
	for serving == 0 {
		if time.Now().After(deadline) {
			ts.Fatalf("kill9: %s runs again but answered no request through nginx within a minute of kill -9", name)
		}
		lines, _, err := readLog(ts.Getenv("NGINX_ACCESS_LOG"), offset)
		ts.Check(err)
		for _, l := range ours(ts, lines) {
			tried := strings.Split(l.upstream, ", ")
			if l.status/100 == 2 && tried[len(tried)-1] == addr {
				serving = time.Since(killed)
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(ts.Stdout(), "kill9: %s killed; running again on %s after %.1fs, answering through nginx after %.1fs (restart count %d)\n",
		name, addr, running.Seconds(), serving.Seconds(), in.RestartCount)
}

var groupLogMarks sync.Map // script work dir -> access-log offset

// grouplog mark | grouplog check: check that every access-log line
// of the project since the mark was answered, and tried, only by
// containers of the version the line names (the group's), so that
// analysis counts each request in its group; print the lines by version
// and how many were tried on more than one peer. A 499 (the client gave
// up, as a load does when it stops) is counted apart.
func cmdGroupLog(ts *testscript.TestScript, neg bool, args []string) {
	key := ts.MkAbs(".")
	switch {
	case !neg && len(args) == 1 && args[0] == "mark":
		groupLogMarks.Store(key, logSize(ts))
	case !neg && len(args) == 1 && args[0] == "check":
		v, ok := groupLogMarks.Load(key)
		if !ok {
			ts.Fatalf("grouplog check: no mark")
		}
		cli := dockerClient(ts)
		defer cli.Close()
		list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", "io.slipway.project="+ts.Getenv("PROJECT")))})
		ts.Check(err)
		version := map[string]string{} // host address -> version of the container there
		for _, c := range list {
			port := c.Labels["io.slipway.host-port"]
			for _, p := range c.Ports {
				if p.PublicPort != 0 {
					port = strconv.Itoa(int(p.PublicPort))
				}
			}
			ref := c.Labels["io.slipway.image"]
			if port != "" {
				version["127.0.0.1:"+port] = ref[strings.LastIndex(ref, ":")+1:]
			}
		}
		lines, _, err := readLog(ts.Getenv("NGINX_ACCESS_LOG"), v.(int64))
		ts.Check(err)
		byVersion := map[string]int{}
		retried, bad, gaveUp := 0, 0, 0
		for _, l := range ours(ts, lines) {
			if l.status == 499 {
				gaveUp++
				continue
			}
			tried := strings.Split(l.upstream, ", ")
			if len(tried) > 1 {
				retried++
			}
			for _, a := range tried {
				if version[a] != l.version {
					ts.Fatalf("grouplog: a %s request went to %s, which runs %q: %+v", l.version, a, version[a], l)
				}
			}
			if l.status/100 != 2 {
				bad++
			}
			byVersion[l.version]++
		}
		var parts []string
		for _, ver := range []string{"v1", "v2", "v3"} {
			if n := byVersion[ver]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", ver, n))
			}
		}
		fmt.Fprintf(ts.Stdout(), "grouplog: %s; %d tried on a second peer of their group, %d not 2xx, %d given up by the client\n",
			strings.Join(parts, ", "), retried, bad, gaveUp)
		if bad > 0 {
			ts.Fatalf("grouplog: %d requests were not answered 2xx", bad)
		}
	default:
		ts.Fatalf("usage: grouplog mark | grouplog check")
	}
}
