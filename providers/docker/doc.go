// Package docker implements providers.Runtime on a Docker engine through
// github.com/docker/docker/client, negotiating the API version with the
// engine (so an engine speaking API 1.41 works with the newer client).
//
// Containers are named by the spec (<project>-<service>-r<release>-<n>, so a
// new release never collides with the one it replaces) and carry the
// providers.Label* labels; release and index are decimal strings. The
// package adds two labels of its own: LabelImage, the image reference the
// container was created for (the container itself is created from the
// pinned image id), and LabelSensitive, the comma-separated names of the
// environment variables whose values are masked in logs and errors, so a
// later process can mask them too.
//
// A container's port is published on the spec's host address (default
// 127.0.0.1) on a host port chosen free when the container is created and
// pinned in its port binding (LabelHostPort records it): the engine would
// give an ephemeral port a new number each time the container restarts,
// and no slipway process runs then to tell nginx. The published address is
// what the router proxies to. A port taken between the choice and the
// start is replaced by another. Observe reports each container's restart
// policy, restart count and last exit code; UpdateRestart
// (providers.RestartUpdater) changes the policy of a live container in
// place. Health is gated either by an HTTP probe of that address
// or by the image's own HEALTHCHECK. Nothing blocks beyond its context: every
// engine call takes the caller's ctx, and WaitHealthy gives up at its
// deadline.
//
// Sensitive values (providers.EnvVar.Sensitive, and any given with
// WithSensitive) are replaced by "(sensitive)" in every log line and health
// error. Beyond the interface, RunTask runs a one-off container from a
// release's image, such as the migrations an application runs itself, and
// ExposedPorts (providers.ImagePorts) lists the TCP ports an image
// declares, so that a plan can warn about a service port it does not.
package docker
