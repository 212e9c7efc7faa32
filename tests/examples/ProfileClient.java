/*
 * ProfileClient: a one-file Java client of the profile API, with no test
 * framework and no build: `java ProfileClient.java` (Java 11 and later run
 * a source file directly). It renames a profile and reads it back over
 * HTTPS from https://api.youcanbook.me, and exits 1 when an answer is not
 * what it expects.
 *
 * It names no proxy and no CA. Run under patchscope's environment
 *
 *     eval "$(patchscope env)"
 *     java ProfileClient.java
 *
 * its requests go through patchscope (JAVA_TOOL_OPTIONS sets the proxy
 * and a trust store holding patchscope's CA), which checks, logs and, with
 * `record`, records them. Java never sends a loopback address through a
 * proxy, so against a local fake keep the real name and let patchscope
 * connect elsewhere: `patchscope proxy --resolve
 * api.youcanbook.me:443=127.0.0.1:8443`.
 *
 * Environment: PROFILE_API (default https://api.youcanbook.me),
 * PROFILE_ACCOUNT and PROFILE_ID (default acc1 and p1), YCBM_API_KEY.
 */
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class ProfileClient {
    private final HttpClient http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10)).build();
    private final String url;
    private final String auth;

    ProfileClient(String api, String account, String profile, String key) {
        this.url = api + "/v1/" + account + "/profiles/" + profile;
        this.auth = "Basic " + Base64.getEncoder().encodeToString(
            (account + ":" + key).getBytes(StandardCharsets.UTF_8));
    }

    /* Send one request; return the body of a 200, else fail. */
    String send(String method, String query, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + query))
            .timeout(Duration.ofSeconds(20))
            .header("Authorization", auth)
            .header("Accept", "application/json");
        if (body == null)
            b.GET();
        else
            b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200)
            throw new IllegalStateException(method + " " + url + query +
                " answered " + r.statusCode() + ": " + r.body());
        return r.body();
    }

    /* The profile's title, read from its JSON. */
    static String title(String json) {
        Matcher m = Pattern.compile("\"title\"\\s*:\\s*\"([^\"]*)\"")
            .matcher(json);
        if (!m.find())
            throw new IllegalStateException("no title in " + json);
        return m.group(1);
    }

    static void expect(String what, String got, String want) {
        if (!got.equals(want))
            throw new IllegalStateException(what + ": got \"" + got +
                "\", want \"" + want + "\"");
        System.out.println("ok: " + what + " is \"" + got + "\"");
    }

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }

    public static void main(String[] args) {
        ProfileClient c = new ProfileClient(
            env("PROFILE_API", "https://api.youcanbook.me"),
            env("PROFILE_ACCOUNT", "acc1"), env("PROFILE_ID", "p1"),
            env("YCBM_API_KEY", "secret-api-key"));
        try {
            String before = title(c.send("GET", "?fields=id,title", null));
            System.out.println("ok: read the profile, titled \"" + before +
                "\"");
            String renamed = before + " (renamed)";
            expect("the title the PATCH answers with", title(c.send("PATCH",
                "?fields=id,title", "{\"title\": \"" + renamed + "\"}")),
                renamed);
            expect("the title read back", title(c.send("GET",
                "?fields=id,title", null)), renamed);
        } catch (Exception e) {
            System.out.println("FAIL: " + e);
            System.exit(1);
        }
    }
}
