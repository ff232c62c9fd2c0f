// ddb-local.java: the launcher tests/lib/ddb-local runs DynamoDB Local with.
//
// DynamoDB Local has no option for its listen address: its Jetty server
// binds every interface. This launcher builds the server exactly as
// DynamoDBLocal.jar's own main does (ServerRunner, the same command line),
// then, before it starts, moves each connector to 127.0.0.1 and port 0 (a
// port the kernel picks, so no other process can take it between a check
// and the bind). It never configures telemetry (and -disableTelemetry is
// passed too), so nothing leaves the machine.
//
// System properties:
//   ddblocal.dir=DIR     writes DIR/port (atomically) once it listens, and
//                        exits within a second once DIR is removed
//   ddblocal.owner=PID   exits within a second once process PID has exited
//   ddblocal.life=SECS   exits after SECS seconds in any case
// Any failure to bind loopback only is fatal: it never serves on all
// interfaces.

import java.io.File;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

class DdbLocalLoopback {
	public static void main(String[] args) throws Exception {
		String dir = System.getProperty("ddblocal.dir");
		long owner = Long.parseLong(System.getProperty("ddblocal.owner", "0"));
		double life = Double.parseDouble(System.getProperty("ddblocal.life", "3600"));
		long end = System.nanoTime() + (long) (life * 1e9);

		Thread guard = new Thread(() -> {
			for (;;) {
				boolean gone = System.nanoTime() > end
					|| (dir != null && !new File(dir).isDirectory())
					|| (owner > 0 && !ProcessHandle.of(owner)
						.map(ProcessHandle::isAlive).orElse(false));
				if (gone)
					Runtime.getRuntime().halt(0);
				try {
					Thread.sleep(500);
				} catch (InterruptedException e) {
					return;
				}
			}
		});
		guard.setDaemon(true);
		guard.start();

		DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
		if (proxy == null)
			fail("bad DynamoDB Local arguments");
		Field f = DynamoDBProxyServer.class.getDeclaredField("server");
		f.setAccessible(true);
		Server server = (Server) f.get(proxy);
		Connector[] cs = server.getConnectors();
		if (cs.length == 0)
			fail("DynamoDB Local has no connector to bind");
		for (Connector c : cs) {
			ServerConnector sc = (ServerConnector) c;
			sc.setHost("127.0.0.1");
			sc.setPort(0);
		}
		proxy.start();
		int port = 0;
		for (Connector c : server.getConnectors()) {
			ServerConnector sc = (ServerConnector) c;
			if (!"127.0.0.1".equals(sc.getHost()) || sc.getLocalPort() <= 0)
				fail("a connector is not on 127.0.0.1");
			port = sc.getLocalPort();
		}
		System.out.println("ddb-local: listening on 127.0.0.1:" + port);
		System.out.flush();
		if (dir != null) {
			Path tmp = Path.of(dir, "port.tmp");
			Files.writeString(tmp, port + "\n");
			Files.move(tmp, Path.of(dir, "port"), StandardCopyOption.ATOMIC_MOVE);
		}
	}

	static void fail(String why) {
		System.err.println("ddb-local: " + why);
		System.err.flush();
		Runtime.getRuntime().halt(1);
	}
}
