/*
 * doctor_probes: the clients `patchscope doctor` checks, with the probe
 * programs it writes for those that need one (Python requests, Node,
 * Java, Go) and what to set when one fails. Pure data (doctor.h).
 *
 * Each probe program prints "version V", then one line per request,
 * "https OUTCOME DETAIL" and "http OUTCOME DETAIL", where OUTCOME is ok
 * (the doctor answer came back), dns (the client looked the name up
 * itself: it skipped the proxy), tls (it refused patchscope's
 * certificate) or error. Only the environment routes a probe: none of
 * them names a proxy or a CA.
 */
#include "config.h"

#include <stddef.h>

#include "doctor.h"
#include "doctor_serve.h"


static const char python_probe[] =
    "import sys\n"
    "try:\n"
    "    import requests\n"
    "except ImportError:\n"
    "    print('missing requests')\n"
    "    sys.exit(0)\n"
    "print('version requests ' + requests.__version__)\n"
    "DNS = ('resolve', 'Name or service', 'getaddrinfo', 'nodename',\n"
    "       'NameResolution', 'Temporary failure in name')\n"
    "for scheme in ('https', 'http'):\n"
    "    url = scheme + '://" DOCTOR_HOST "/python'\n"
    "    try:\n"
    "        r = requests.get(url, timeout=8)\n"
    "        good = r.status_code == 200 and 'patchscope doctor' in r.text\n"
    "        print(scheme, 'ok' if good else 'error', r.status_code)\n"
    "    except requests.exceptions.SSLError as e:\n"
    "        print(scheme, 'tls', ' '.join(str(e).split())[:180])\n"
    "    except requests.exceptions.ProxyError as e:\n"
    "        print(scheme, 'error', ' '.join(str(e).split())[:180])\n"
    "    except Exception as e:\n"
    "        s = ' '.join(str(e).split())\n"
    "        kind = 'dns' if any(w in s for w in DNS) else 'error'\n"
    "        print(scheme, kind, s[:180])\n";

static const char node_probe[] =
    "const out = (s) => console.log(s);\n"
    "const code = (e) => (e && e.cause && e.cause.code) || (e && e.code) "
    "|| '';\n"
    "const kind = (e) => {\n"
    "  const c = code(e);\n"
    "  if (c === 'ENOTFOUND' || c === 'EAI_AGAIN') return 'dns';\n"
    "  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(c)) "
    "return 'tls';\n"
    "  return 'error';\n"
    "};\n"
    "const text = (e) => String(code(e) + ' ' + ((e && e.cause && "
    "e.cause.message) || e)).replace(/\\s+/g, ' ').slice(0, 180);\n"
    "out('version ' + process.version);\n"
    "for (const scheme of ['https', 'http']) {\n"
    "  try {\n"
    "    const r = await fetch(`${scheme}://" DOCTOR_HOST "/node`,\n"
    "      { signal: AbortSignal.timeout(8000) });\n"
    "    const t = await r.text();\n"
    "    out(`${scheme} ${r.status === 200 && t.includes("
    "'patchscope doctor') ? 'ok' : 'error'} ${r.status}`);\n"
    "  } catch (e) { out(`${scheme} ${kind(e)} ${text(e)}`); }\n"
    "}\n"
    "/* Trust alone: a CONNECT made by hand to the proxy of HTTPS_PROXY. */\n"
    "const http = await import('node:http');\n"
    "const tls = await import('node:tls');\n"
    "const https = await import('node:https');\n"
    "const env = process.env.HTTPS_PROXY || process.env.https_proxy;\n"
    "if (env) await new Promise((done) => {\n"
    "  const p = new URL(env);\n"
    "  const req = http.request({ host: p.hostname.replace(/^\\[|\\]$/g, "
    "''),\n"
    "    port: p.port || 80, method: 'CONNECT', path: '" DOCTOR_HOST
    ":443' });\n"
    "  req.setTimeout(8000, () => { out('tunnel error timeout'); "
    "req.destroy(); done(); });\n"
    "  req.on('error', (e) => { out('tunnel error ' + text(e)); done(); });\n"
    "  req.on('connect', (res, socket) => {\n"
    "    if (res.statusCode !== 200) {\n"
    "      out('tunnel error ' + res.statusCode); socket.destroy(); "
    "return done();\n"
    "    }\n"
    "    const s = tls.connect({ socket, servername: '" DOCTOR_HOST "' },\n"
    "      () => https.get({ host: '" DOCTOR_HOST "', port: 443,\n"
    "        path: '/node/tunnel', createConnection: () => s }, (r) => {\n"
    "        r.resume();\n"
    "        r.on('end', () => { out('tunnel ' + (r.statusCode === 200 ? "
    "'ok' : 'error ' + r.statusCode)); s.destroy(); done(); });\n"
    "      }).on('error', (e) => { out('tunnel error ' + text(e)); "
    "done(); }));\n"
    "    s.on('error', (e) => { out('tunnel ' + kind(e) + ' ' + text(e)); "
    "done(); });\n"
    "  });\n"
    "  req.end();\n"
    "});\n";

static const char java_probe[] =
    "import java.net.URI;\n"
    "import java.net.http.HttpClient;\n"
    "import java.net.http.HttpRequest;\n"
    "import java.net.http.HttpResponse;\n"
    "import java.time.Duration;\n"
    "\n"
    "public class DoctorProbe {\n"
    "    static String kind(Throwable e) {\n"
    "        for (Throwable t = e; t != null; t = t.getCause()) {\n"
    "            String n = t.getClass().getName();\n"
    "            if (n.endsWith(\"UnresolvedAddressException\") ||\n"
    "                n.endsWith(\"UnknownHostException\"))\n"
    "                return \"dns\";\n"
    "            if (t instanceof javax.net.ssl.SSLException)\n"
    "                return \"tls\";\n"
    "        }\n"
    "        return \"error\";\n"
    "    }\n"
    "\n"
    "    public static void main(String[] args) {\n"
    "        System.out.println(\"version \" +\n"
    "            System.getProperty(\"java.version\"));\n"
    "        HttpClient c = HttpClient.newBuilder()\n"
    "            .connectTimeout(Duration.ofSeconds(8)).build();\n"
    "        for (String s : new String[] { \"https\", \"http\" }) {\n"
    "            try {\n"
    "                HttpRequest q = HttpRequest.newBuilder(URI.create(\n"
    "                    s + \"://" DOCTOR_HOST "/java\"))\n"
    "                    .timeout(Duration.ofSeconds(8)).build();\n"
    "                HttpResponse<String> r = c.send(q,\n"
    "                    HttpResponse.BodyHandlers.ofString());\n"
    "                boolean good = r.statusCode() == 200 &&\n"
    "                    r.body().contains(\"patchscope doctor\");\n"
    "                System.out.println(s + (good ? \" ok \" : \" error \") +\n"
    "                    r.statusCode());\n"
    "            } catch (Exception e) {\n"
    "                System.out.println(s + \" \" + kind(e) + \" \" +\n"
    "                    String.valueOf(e).replaceAll(\"\\\\s+\", \" \"));\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n";

static const char go_probe[] =
    "package main\n"
    "\n"
    "import (\n"
    "\t\"crypto/x509\"\n"
    "\t\"errors\"\n"
    "\t\"fmt\"\n"
    "\t\"io\"\n"
    "\t\"net\"\n"
    "\t\"net/http\"\n"
    "\t\"runtime\"\n"
    "\t\"strings\"\n"
    "\t\"time\"\n"
    ")\n"
    "\n"
    "func kind(err error) string {\n"
    "\tvar dns *net.DNSError\n"
    "\tvar ua x509.UnknownAuthorityError\n"
    "\tvar he x509.HostnameError\n"
    "\tvar ci x509.CertificateInvalidError\n"
    "\tswitch {\n"
    "\tcase errors.As(err, &dns):\n"
    "\t\treturn \"dns\"\n"
    "\tcase errors.As(err, &ua), errors.As(err, &he), "
    "errors.As(err, &ci):\n"
    "\t\treturn \"tls\"\n"
    "\tcase strings.Contains(err.Error(), \"tls:\"):\n"
    "\t\treturn \"tls\"\n"
    "\t}\n"
    "\treturn \"error\"\n"
    "}\n"
    "\n"
    "func main() {\n"
    "\tfmt.Println(\"version\", runtime.Version())\n"
    "\tc := &http.Client{Timeout: 8 * time.Second}\n"
    "\tfor _, s := range []string{\"https\", \"http\"} {\n"
    "\t\tr, err := c.Get(s + \"://" DOCTOR_HOST "/go\")\n"
    "\t\tif err != nil {\n"
    "\t\t\tfmt.Println(s, kind(err), "
    "strings.Join(strings.Fields(err.Error()), \" \"))\n"
    "\t\t\tcontinue\n"
    "\t\t}\n"
    "\t\tb, _ := io.ReadAll(io.LimitReader(r.Body, 4096))\n"
    "\t\tr.Body.Close()\n"
    "\t\tif r.StatusCode == 200 && "
    "strings.Contains(string(b), \"patchscope doctor\") {\n"
    "\t\t\tfmt.Println(s, \"ok\", r.StatusCode)\n"
    "\t\t} else {\n"
    "\t\t\tfmt.Println(s, \"error\", r.StatusCode)\n"
    "\t\t}\n"
    "\t}\n"
    "}\n";

/* The clients, with what to set when one fails on this kind of machine. */
const struct doctor_client doctor_clients[] = {
	{ "curl", "curl", "curl", DOCTOR_CURL, NULL, NULL, 10,
	  "set https_proxy and http_proxy (curl reads only the lower-case "
	  "http_proxy)",
	  "set CURL_CA_BUNDLE to patchscope's bundle.pem" },
	{ "python", "python3", "python3-requests", DOCTOR_PROGRAM,
	  "probe.py", python_probe, 15,
	  "set HTTPS_PROXY and HTTP_PROXY (and leave NO_PROXY without this "
	  "host)",
	  "set REQUESTS_CA_BUNDLE to patchscope's bundle.pem" },
	{ "node", "node", "nodejs", DOCTOR_PROGRAM, "probe.mjs", node_probe,
	  15, NULL,
	  "set NODE_EXTRA_CA_CERTS to patchscope's ca.pem" },
	{ "git", "git", "git", DOCTOR_GIT, NULL, NULL, 10,
	  "set https_proxy and http_proxy, or git config http.proxy",
	  "set GIT_SSL_CAINFO to patchscope's bundle.pem" },
	{ "java", "java", "openjdk-17-jdk-headless", DOCTOR_PROGRAM,
	  "DoctorProbe.java", java_probe, 40,
	  "set JAVA_TOOL_OPTIONS with -Dhttps.proxyHost/-Dhttps.proxyPort "
	  "(as patchscope env prints it)",
	  "set JAVA_TOOL_OPTIONS with -Djavax.net.ssl.trustStore="
	  "truststore.jks (as patchscope env prints it)" },
	{ "go", "go", "golang-go", DOCTOR_PROGRAM, "probe.go", go_probe, 120,
	  "set HTTPS_PROXY and HTTP_PROXY (Go never proxies loopback "
	  "addresses: use a real name and --resolve)",
	  "set SSL_CERT_FILE to patchscope's bundle.pem" },
};
const size_t doctor_nclients = sizeof doctor_clients /
    sizeof doctor_clients[0];
