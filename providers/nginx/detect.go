package nginx

import (
	"context"
	"regexp"
)

var (
	// loadLuaRe matches the load_module line of the Lua module in "nginx -T".
	loadLuaRe = regexp.MustCompile(`(?m)^\s*load_module\s+["']?[^;\n]*ngx_http_lua_module\.so`)
	// builtinLuaRe matches a Lua module compiled in (OpenResty) in "nginx -V".
	builtinLuaRe = regexp.MustCompile(`ngx_lua|lua-nginx-module`)
)

// detectLua reports whether the configuration r validates loads nginx's
// Lua module, or whether the binary has it built in. It runs "nginx -T"
// (which fails, wrapping ErrRejected, when the configuration is invalid)
// and "nginx -V".
func detectLua(ctx context.Context, r *Reload) (bool, error) {
	out, err := r.run(ctx, ErrRejected, "-T")
	if err != nil {
		return false, err
	}
	if loadLuaRe.MatchString(out) {
		return true, nil
	}
	out, err = (&Reload{Binary: r.Binary}).run(ctx, ErrRejected, "-V")
	if err != nil {
		return false, err
	}
	return builtinLuaRe.MatchString(out), nil
}
