// pulumi-language-python, as this project ships it.
//
// The Go module proxy serves the Pulumi CLI at the pinned version but no version of the Python
// language host's own module; the newest host it serves is the one inside sdk/v3@v3.79.0. That host
// runs programs and dynamic providers fine with today's engine, but it predates the way current
// engines start Python policy packs (RunPlugin with kind "analyzer" and a ProgramInfo instead of a
// program path), and runs the project's __main__.py instead. This front starts that host beside
// itself, forwards every call to it, and runs analyzer plugins itself the way current hosts do:
// `python -u -m pulumi.policy <engine address> <policy pack directory>` in the pack's virtualenv.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type front struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	host pulumirpc.LanguageRuntimeClient
}

func (f *front) Handshake(ctx context.Context, r *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	return f.host.Handshake(ctx, r)
}

func (f *front) GetRequiredPlugins(ctx context.Context, r *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return f.host.GetRequiredPlugins(ctx, r)
}

func (f *front) GetRequiredPackages(ctx context.Context, r *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return f.host.GetRequiredPackages(ctx, r)
}

func (f *front) Run(ctx context.Context, r *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	return f.host.Run(ctx, r)
}

func (f *front) GetPluginInfo(ctx context.Context, r *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return f.host.GetPluginInfo(ctx, r)
}

func (f *front) RuntimeOptionsPrompts(ctx context.Context, r *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return f.host.RuntimeOptionsPrompts(ctx, r)
}

func (f *front) About(ctx context.Context, r *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return f.host.About(ctx, r)
}

func (f *front) GetProgramDependencies(ctx context.Context, r *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return f.host.GetProgramDependencies(ctx, r)
}

func (f *front) InstallDependencies(r *pulumirpc.InstallDependenciesRequest, s grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	stream, err := f.host.InstallDependencies(s.Context(), r)
	if err != nil {
		return err
	}
	return relay(stream.Recv, s.Send)
}

func (f *front) RunPlugin(r *pulumirpc.RunPluginRequest, s grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	if r.GetKind() != "analyzer" || r.GetInfo() == nil {
		stream, err := f.host.RunPlugin(s.Context(), r)
		if err != nil {
			return err
		}
		return relay(stream.Recv, s.Send)
	}
	return runPolicyPack(r, s)
}

func relay[T any](recv func() (*T, error), send func(*T) error) error {
	for {
		msg, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := send(msg); err != nil {
			return err
		}
	}
}

// runPolicyPack starts a Python policy pack as current language hosts do.
func runPolicyPack(r *pulumirpc.RunPluginRequest, s grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	dir := r.GetInfo().GetProgramDirectory()
	python := os.Getenv("PULUMI_PYTHON_CMD")
	if python == "" {
		python = "python3"
	}
	env := append([]string{}, r.GetEnv()...)
	if opts := r.GetInfo().GetOptions(); opts != nil {
		if v, ok := opts.GetFields()["virtualenv"]; ok && v.GetStringValue() != "" {
			venv := v.GetStringValue()
			if !filepath.IsAbs(venv) {
				venv = filepath.Join(dir, venv)
			}
			python = filepath.Join(venv, "bin", "python")
			if _, err := os.Stat(python); err != nil {
				return fmt.Errorf("the policy pack's virtualenv %q has no bin/python; create it and install pulumi-policy", venv)
			}
			env = append(env, "VIRTUAL_ENV="+venv, "PATH="+filepath.Join(venv, "bin")+":"+os.Getenv("PATH"))
		}
	}
	args := append([]string{"-u", "-m", "pulumi.policy"}, r.GetArgs()...)
	args = append(args, dir)
	cmd := exec.Command(python, args...)
	cmd.Dir = dir
	cmd.Env = env

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(s, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return s.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())},
				})
			}
		}
		return fmt.Errorf("could not run the policy pack in %s: %w", dir, err)
	}
	return closer.Close()
}

func main() {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	// The real host sits beside this binary; it gets exactly the arguments the engine gave us.
	host := exec.Command(filepath.Join(filepath.Dir(self), "pulumi-language-python-host"), os.Args[1:]...)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := host.Start(); err != nil {
		fail(fmt.Errorf("starting the Python language host: %w", err))
	}
	defer func() { _ = host.Process.Kill() }()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fail(fmt.Errorf("the Python language host printed no port: %w", err))
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		fail(fmt.Errorf("the Python language host printed %q, not a port", line))
	}
	go func() { _, _ = io.Copy(os.Stdout, out) }()

	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		fail(err)
	}
	defer conn.Close()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &front{host: pulumirpc.NewLanguageRuntimeClient(conn)})
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}
