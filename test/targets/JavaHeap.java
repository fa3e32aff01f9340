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
 *   <li>{@code grow <MB>} retain MB more of live data (all or nothing) on the Java heap, as 64 KiB byte arrays
 *       (small enough never to be G1 "humongous" objects, which would take whole regions and
 *       roughly double the heap growth), every page written so it is really resident;</li>
 *   <li>{@code free} drop everything retained so far (the next {@code gc} can reclaim it);</li>
 *   <li>{@code gc} run System.gc();</li>
 *   <li>{@code exit} quit.</li>
 * </ul>
 * Every command answers with exactly one JSON line, e.g.
 * {@code {"ok":"grow","heapUsed":…,"heapCommitted":…,"heapMax":…,"retainedMB":…}};
 * an unknown command or bad argument answers {@code {"error":"…"}}.
 * heapCommitted/heapMax are Runtime.totalMemory()/maxMemory(). With G1 they equal the committed
 * (rw-p) part and the size of the heap reservation in /proc/PID/maps. Serial and Parallel leave
 * one survivor space (Parallel also unused young-gen slack) out of both, so there the maps show
 * more committed than heapCommitted and a reservation of exactly -Xmx, larger than heapMax.
 */
public class JavaHeap {
    private static final int MB = 1024 * 1024;
    private static final int CHUNK = 64 * 1024;
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
                        // All or nothing: on OutOfMemoryError the partial batch becomes garbage,
                        // which also leaves room to build the error reply.
                        List<byte[]> batch = new ArrayList<>();
                        for (long i = 0; i < (long) n * (MB / CHUNK); i++) {
                            byte[] chunk = new byte[CHUNK];
                            // Write every page so the memory is resident, not just reserved.
                            for (int j = 0; j < CHUNK; j += 4096) chunk[j] = (byte) (i + j);
                            batch.add(chunk);
                        }
                        retained.addAll(batch);
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
                System.out.println("{\"error\":\"OutOfMemoryError\",\"retainedMB\":" + retainedMB() + "}");
                System.out.flush();
            } catch (RuntimeException e) {
                System.out.println("{\"error\":\"bad command: " + line.replace("\"", "'") + "\"}");
                System.out.flush();
            }
        }
    }

    private static long retainedMB() {
        return (long) retained.size() * CHUNK / MB;
    }

    private static void reply(String what) {
        Runtime rt = Runtime.getRuntime();
        long committed = rt.totalMemory();
        long used = committed - rt.freeMemory();
        System.out.println("{\"ok\":\"" + what + "\",\"heapUsed\":" + used + ",\"heapCommitted\":" + committed
                + ",\"heapMax\":" + rt.maxMemory() + ",\"retainedMB\":" + retainedMB() + "}");
        System.out.flush();
    }
}
