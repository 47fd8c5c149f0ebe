package main

import (
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"
	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       map[string]string `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   yaml.Node         `yaml:"depends_on"`
	} `yaml:"services"`
}

// envVarsOf lists, for each subcommand path, the environment variables its flags read.
func envVarsOf(cmd *cli.Command) map[string][]string {
	out := map[string][]string{}
	var walk func(prefix string, c *cli.Command)
	walk = func(prefix string, c *cli.Command) {
		var vars []string
		for _, f := range c.Flags {
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				vars = append(vars, ev.GetEnvVars()...)
			}
		}
		out[strings.TrimSpace(prefix)] = vars
		for _, sub := range c.Commands {
			walk(prefix+" "+sub.Name, sub)
		}
	}
	walk("", cmd)
	return out
}

// TestDockerComposeIsTruthful checks docker-compose.yml against what revhub really reads.
func TestDockerComposeIsTruthful(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, want := range []string{"postgresql", "temporal", "temporal-ui", "revhub-api", "revhub-worker"} {
		if _, ok := cf.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	if df := cf.Services["revhub-api"].Build["dockerfile"]; df != "" {
		if _, err := os.Stat("../../" + df); err != nil {
			t.Errorf("revhub-api build dockerfile %s: %v", df, err)
		}
	}
	if img := cf.Services["temporal"].Image; !strings.HasPrefix(img, "temporalio/auto-setup") || cf.Services["temporal"].Environment["DB"] != "postgres12" {
		t.Errorf("temporal must run on PostgreSQL persistence (auto-setup with DB=postgres12), got %s %v", img, cf.Services["temporal"].Environment)
	}
	pgSettings := map[string]string{}
	for i, arg := range cf.Services["postgresql"].Command {
		if k, v, ok := strings.Cut(arg, "="); ok && i > 0 && cf.Services["postgresql"].Command[i-1] == "-c" {
			pgSettings[k] = v
		}
	}
	if pgSettings["max_wal_size"] == "" || pgSettings["shared_buffers"] == "" {
		t.Errorf("postgresql must set max_wal_size and shared_buffers as docs/performance.md advises, got command %q", cf.Services["postgresql"].Command)
	}
	vars := envVarsOf(rootCommand())
	published := func(svc string) []string {
		var ports []string
		for _, p := range cf.Services[svc].Ports {
			parts := strings.Split(p, ":")
			ports = append(ports, parts[len(parts)-1])
		}
		return ports
	}
	for name, svc := range cf.Services {
		if !strings.HasPrefix(name, "revhub-") {
			continue
		}
		if len(svc.Command) == 0 {
			t.Errorf("%s: no command", name)
			continue
		}
		sub := svc.Command[0]
		known, ok := vars[sub]
		if !ok {
			t.Errorf("%s: command %q is not a revhub subcommand", name, sub)
			continue
		}
		for _, arg := range svc.Command[1:] {
			flagName := strings.TrimPrefix(strings.SplitN(arg, "=", 2)[0], "--")
			found := false
			for _, c := range rootCommand().Commands {
				if c.Name == sub {
					for _, f := range c.Flags {
						found = found || slices.Contains(f.Names(), flagName)
					}
				}
			}
			if !found {
				t.Errorf("%s: revhub %s has no flag %s", name, sub, arg)
			}
		}
		for k, v := range svc.Environment {
			if strings.HasPrefix(k, "REVHUB_") && !slices.Contains(known, k) {
				t.Errorf("%s: revhub %s does not read %s", name, sub, k)
			}
			switch k {
			case "REVHUB_DATABASE_URL":
				u, err := url.Parse(v)
				if err != nil || u.Scheme != "postgres" {
					t.Errorf("%s: %s=%q is not a postgres URL", name, k, v)
					continue
				}
				if _, ok := cf.Services[u.Hostname()]; !ok {
					t.Errorf("%s: %s host %q is not a service", name, k, u.Hostname())
				}
				if pw, _ := u.User.Password(); pw != cf.Services[u.Hostname()].Environment["POSTGRES_PASSWORD"] {
					t.Errorf("%s: %s password does not match the postgresql service", name, k)
				}
			case "REVHUB_TEMPORAL_ADDRESS":
				host, port, err := net.SplitHostPort(v)
				if err != nil {
					t.Errorf("%s: %s=%q: %v", name, k, v, err)
					continue
				}
				if _, ok := cf.Services[host]; !ok || port != "7233" {
					t.Errorf("%s: %s=%q does not name the temporal service's frontend", name, k, v)
				}
			case "REVHUB_API_LISTEN":
				_, port, err := net.SplitHostPort(v)
				if err != nil || !slices.Contains(published(name), port) {
					t.Errorf("%s: %s=%q is not a published port (%v)", name, k, v, published(name))
				}
			}
		}
	}
	if ui := cf.Services["temporal-ui"].Environment["TEMPORAL_ADDRESS"]; ui != "temporal:7233" {
		t.Errorf("temporal-ui TEMPORAL_ADDRESS = %q", ui)
	}
}
