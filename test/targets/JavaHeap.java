import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Live-test target for leakwatch's Java heap detection.
 *
 * Run with a single-file source launch, e.g. {@code java -Xmx512m -Xms64m JavaHeap.java}.
 * Prints {@code {"ready":true,"pid":N}} once, then reads commands from stdin, one per line:
 * <ul>
 *   <li>{@code grow <MB>} retain MB more of live data on the Java heap (1 MiB byte arrays,
 *       touched so the pages are really committed);</li>
 *   <li>{@code free} drop everything retained so far (the next {@code gc} can reclaim it);</li>
 *   <li>{@code gc} run System.gc();</li>
 *   <li>{@code exit} quit.</li>
 * </ul>
 * Every command answers with exactly one JSON line, e.g.
 * {@code {"ok":"grow","heapUsed":…,"heapCommitted":…,"heapMax":…,"retainedMB":…}};
 * an unknown command or bad argument answers {@code {"error":"…"}}.
 */
public class JavaHeap {
    private static final int MB = 1024 * 1024;
    /** Held in a static field so the retained arrays stay reachable across GCs. */
    private static final List<byte[]> retained = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        System.out.println("{\"ready\":true,\"pid\":" + ProcessHandle.current().pid() + "}");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.trim().split("\\s+");
            String cmd = parts[0];
            if (cmd.isEmpty()) continue;
            try {
                switch (cmd) {
                    case "grow": {
                        int n = Integer.parseInt(parts[1]);
                        for (int i = 0; i < n; i++) {
                            byte[] chunk = new byte[MB];
                            // Write every page so the memory is resident, not just reserved.
                            for (int j = 0; j < chunk.length; j += 4096) chunk[j] = (byte) (i + j);
                            retained.add(chunk);
                        }
                        reply("grow");
                        break;
                    }
                    case "free":
                        retained.clear();
                        reply("free");
                        break;
                    case "gc":
                        System.gc();
                        reply("gc");
                        break;
                    case "exit":
                        reply("exit");
                        return;
                    default:
                        System.out.println("{\"error\":\"unknown command: " + cmd.replace("\"", "'") + "\"}");
                        System.out.flush();
                }
            } catch (OutOfMemoryError e) {
                System.out.println("{\"error\":\"OutOfMemoryError\",\"retainedMB\":" + retained.size() + "}");
                System.out.flush();
            } catch (RuntimeException e) {
                System.out.println("{\"error\":\"bad command: " + line.replace("\"", "'") + "\"}");
                System.out.flush();
            }
        }
    }

    private static void reply(String what) {
        Runtime rt = Runtime.getRuntime();
        long committed = rt.totalMemory();
        long used = committed - rt.freeMemory();
        System.out.println("{\"ok\":\"" + what + "\",\"heapUsed\":" + used + ",\"heapCommitted\":" + committed
                + ",\"heapMax\":" + rt.maxMemory() + ",\"retainedMB\":" + retained.size() + "}");
        System.out.flush();
    }
}
