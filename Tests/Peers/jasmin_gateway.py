#!/usr/bin/env python3
"""Jasmin, a real SMS gateway, on loopback for the tests: Redis and RabbitMQ (from Debian) and jasmind (PyPI jasmin,
in its own virtual environment) started in FOLDER on free ports, configured through jCli with one ESME user and one
upstream SMPP connector with a default route to it. Prints "ready PORT" (Jasmin's SMPP server) once the connector
is bound, then runs until its standard input closes, and stops everything. Jasmin's own logs stay in FOLDER/logs
(messages.log holds each message's queue-msgid, the id the ESME got, and smpp-msgid, the id upstream gave).

usage: jasmin_gateway.py --python JASMIN_VENV_PYTHON --folder FOLDER --upstream PORT --upstream-login USER:PASSWORD
                         --esme-login USER:PASSWORD
Needs root (rabbitmq-server runs as its own user)."""

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds, what, processes):
    end = time.time() + seconds
    while time.time() < end:
        for process in processes:
            if process.poll() is not None:
                sys.exit("%s exited with %s" % (what, process.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("%s did not listen on %d within %d s" % (what, port, seconds))


def jcli(port, lines):
    """Runs jCli commands, each once the console prompts for it; returns what the console answered."""
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    answer = b""

    def read_prompt(first=False):
        nonlocal answer
        start = len(answer)
        end = time.time() + 20
        while time.time() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                chunk = None
            if chunk == b"":
                raise RuntimeError("jCli closed the session: %s" % answer.decode(errors="replace"))
            if chunk:
                answer += chunk
            tail = answer[start:].rstrip()
            if tail.endswith(b"jcli :") or tail.endswith(b">"):
                return
            # The console greets, and prompts once the client speaks (telnet).
            if first and b"Session ref" in answer and time.time() > end - 18:
                return
        raise RuntimeError("jCli did not prompt: %s" % answer.decode(errors="replace"))

    read_prompt(first=True)
    for line in lines:
        s.sendall(line.encode() + b"\n")
        read_prompt()
    s.sendall(b"quit\n")
    s.close()
    return answer.decode(errors="replace")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--upstream-login", required=True)
    parser.add_argument("--esme-login", required=True)
    args = parser.parse_args()
    folder = os.path.abspath(args.folder)
    for sub in ("logs", "store", "rabbit/mnesia", "rabbit/log"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    rabbit = pwd.getpwnam("rabbitmq")
    for root, dirs, _ in os.walk(os.path.join(folder, "rabbit")):
        os.chown(root, rabbit.pw_uid, rabbit.pw_gid)
    os.chmod(folder, 0o755)

    redis_port, amqp_port, dist_port = free_port(), free_port(), free_port()
    smpp_port, jcli_port = free_port(), free_port()
    ports = {name: free_port() for name in ("smpp_pb", "client_management", "router", "http")}
    processes = []
    environment = None

    def stop(*_):
        # The broker runs as its own user, out of this process group: stopped by its node name, then by its epmd
        # port should it linger; its epmd once no node is left.
        if environment is not None:
            subprocess.run(["rabbitmqctl", "-n", environment["RABBITMQ_NODENAME"], "stop"], env=environment,
                           capture_output=True, timeout=60)
            subprocess.run(["pkill", "-f", "epmd_port %d" % (dist_port + 1)], capture_output=True)
        for process in reversed(processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        time.sleep(0.5)
        subprocess.run(["epmd", "-port", str(dist_port + 1), "-kill"], capture_output=True)

    def terminated(*_):
        stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, terminated)
    try:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", folder],
            stdout=open(os.path.join(folder, "logs/redis.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        processes.append(redis)
        plugins = os.path.join(folder, "rabbit/enabled_plugins")
        with open(plugins, "w") as f:
            f.write("[].\n")
        os.chown(plugins, rabbit.pw_uid, rabbit.pw_gid)
        environment = dict(os.environ)
        environment.update({
            "HOME": os.path.join(folder, "rabbit"), "RABBITMQ_NODENAME": "smppscope%d@localhost" % amqp_port,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(amqp_port),
            "RABBITMQ_DIST_PORT": str(dist_port), "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(dist_port + 1),
            "RABBITMQ_MNESIA_BASE": os.path.join(folder, "rabbit/mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(folder, "rabbit/log"), "RABBITMQ_ENABLED_PLUGINS_FILE": plugins,
            "RABBITMQ_FEATURE_FLAGS_FILE": os.path.join(folder, "rabbit/mnesia/feature_flags"),
        })
        broker = subprocess.Popen(
            ["rabbitmq-server"], env=environment, stdout=open(os.path.join(folder, "logs/rabbitmq.log"), "w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(broker)
        wait_port(redis_port, 20, "redis-server", processes)
        wait_port(amqp_port, 90, "rabbitmq-server", processes)

        spec = subprocess.run(
            [args.python, "-c", "import txamqp, os; print(os.path.join(os.path.dirname(txamqp.__file__), "
             "'specs/standard/amqp0-9-1.stripped.xml'))"], capture_output=True, text=True, check=True).stdout.strip()
        logs = os.path.join(folder, "logs")
        config = os.path.join(folder, "jasmin.cfg")
        with open(config, "w") as f:
            f.write("""[smpp-server]
id = gateway
bind = 127.0.0.1
port = %(smpp)d
log_file = %(logs)s/default-smpps.log
log_privacy = False
[smpp-server-pb]
bind = 127.0.0.1
port = %(smpp_pb)d
authentication = False
log_file = %(logs)s/smpp-server-pb.log
[client-management]
store_path = %(store)s
bind = 127.0.0.1
port = %(client_management)d
authentication = False
log_file = %(logs)s/smppclient-manager.log
[service-smppclient]
log_file = %(logs)s/service-smppclients.log
[sm-listener]
log_file = %(logs)s/messages.log
log_privacy = False
[dlr]
log_file = %(logs)s/dlr.log
[amqp-broker]
host = 127.0.0.1
port = %(amqp)d
spec = %(spec)s
log_file = %(logs)s/amqp-client.log
[http-api]
bind = 127.0.0.1
port = %(http)d
log_file = %(logs)s/http-api.log
[router]
store_path = %(store)s
bind = 127.0.0.1
port = %(router)d
authentication = False
log_file = %(logs)s/router.log
[deliversm-thrower]
log_file = %(logs)s/deliversm-thrower.log
[dlr-thrower]
log_file = %(logs)s/dlr-thrower.log
[redis-client]
host = 127.0.0.1
port = %(redis)d
log_file = %(logs)s/redis-client.log
[jcli]
bind = 127.0.0.1
port = %(jcli)d
authentication = False
log_file = %(logs)s/jcli.log
""" % dict(ports, smpp=smpp_port, logs=logs, store=os.path.join(folder, "store"), amqp=amqp_port, spec=spec,
               redis=redis_port, jcli=jcli_port))
        jasmind = os.path.join(os.path.dirname(args.python), "jasmind.py")
        # jasmind locks /tmp/jasmind (one per machine); a jasmind killed before it could let go leaves the lock.
        if subprocess.run(["pgrep", "-f", "jasmind.py"], capture_output=True).returncode == 0:
            sys.exit("another jasmind is running on this machine")
        for name in os.listdir("/tmp"):
            if name == "jasmind.lock" or (name.startswith("jasmind.") and name.endswith(".lock")):
                os.remove(os.path.join("/tmp", name))
        gateway = subprocess.Popen(
            [args.python, jasmind, "--config", config, "--enable-dlr-thrower", "--enable-dlr-lookup",
             "--disable-http-api"], stdout=open(os.path.join(logs, "jasmind.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        processes.append(gateway)
        wait_port(jcli_port, 60, "jasmind", processes)
        user, password = args.esme_login.split(":", 1)
        up_user, up_password = args.upstream_login.split(":", 1)
        configured = jcli(jcli_port, [
            "group -a", "gid g1", "ok",
            "user -a", "username " + user, "password " + password, "gid g1", "uid u1", "ok",
            "smppccm -a", "cid upstream", "host 127.0.0.1", "port %d" % args.upstream, "username " + up_user,
            "password " + up_password, "submit_throughput 100", "ok",
            "smppccm -1 upstream",
            "mtrouter -a", "type defaultroute", "connector smppc(upstream)", "rate 0", "order 0", "ok",
        ])
        with open(os.path.join(logs, "jcli-session.log"), "w") as f:
            f.write(configured)
        end = time.time() + 30
        while "BOUND_TRX" not in jcli(jcli_port, ["smppccm -l"]):
            if time.time() > end:
                sys.exit("the upstream connector did not bind: see %s" % logs)
            time.sleep(0.5)
        print("ready %d" % smpp_port, flush=True)
        sys.stdin.read()
    except BaseException as error:
        if not isinstance(error, SystemExit):
            print("jasmin_gateway: %r" % error, file=sys.stderr, flush=True)
        raise
    finally:
        stop()


if __name__ == "__main__":
    main()
