"""Credentials in the configuration and history files of common programs (issue 20, "Files"): one realistic
file per program, under its real name in a temporary folder, scanned from disk by `scan_paths`.

A plain secret must be reported at medium or above by the rule named for it; an encrypted value or a
reference (Jenkins {AQAAAB...}, Firefox encryptedPassword, Travis secure:, ${VAR}, passwordeval) must not be
reported at medium. Every value is generated per run, in the format the program writes."""
from __future__ import annotations

import base64
import binascii
import json
import secrets as rnd
import string
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner import ScanOptions, scan_paths

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CRYPT = "./" + string.digits + string.ascii_uppercase + string.ascii_lowercase


def token(n: int = 20, alphabet: str = ALNUM) -> str:
    """Random, with at least one digit and one letter (what a generated password looks like)."""
    return rnd.choice(string.ascii_letters) + "".join(rnd.choice(alphabet) for _ in range(n - 2)) + rnd.choice(string.digits)


def hexstr(n: int) -> str:
    return "".join(rnd.choice(HEX) for _ in range(n))


def crypt(n: int) -> str:
    return "".join(rnd.choice(CRYPT) for _ in range(n))


def b64(n: int) -> str:
    return base64.b64encode(rnd.token_bytes(n)).decode()


def uuid4() -> str:
    h = hexstr(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def github_token(prefix: str) -> str:
    """<prefix><30 random alphanumerics><base62 CRC32 of them, 6 wide>, as GitHub issues its tokens."""
    body = "".join(rnd.choice(ALNUM) for _ in range(30))
    n, out = binascii.crc32(body.encode()), ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return prefix + body + out.rjust(6, "0")


def filezilla2_obfuscated(password: str) -> str:
    """FileZilla 1 and 2 (FileZilla.xml): each character XOR a fixed key, written as three decimal digits."""
    key = "FILEZILLA1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pos = len(password) % len(key)
    return "".join(f"{ord(ch) ^ ord(key[(i + pos) % len(key)]):03d}" for i, ch in enumerate(password))


def jetbrains_obfuscated(password: str) -> str:
    """IntelliJ's PasswordUtil.encodePassword: every character XOR 0xdfaa, written as hex."""
    return "".join(f"{ord(c) ^ 0xDFAA:x}" for c in password)


def winscp_obfuscated(password: str, user: str, host: str) -> str:
    """WinSCP's stored-session obfuscation (no master password): a flag byte, the length, a random
    shift, then the bytes of user+host+password, each XOR 0xA3, complemented and written as two hex digits."""
    def enc(b: int) -> str:
        v = ~(b ^ 0xA3) & 0xFF
        return f"{v:02X}"
    data = (user + host + password).encode()
    shift = rnd.randbelow(8)
    out = enc(0xFF) + enc(0) + enc(len(data)) + enc(shift)
    out += "".join(enc(rnd.randbelow(256)) for _ in range(shift))
    return out + "".join(enc(b) for b in data)


@dataclass
class Case:
    """A file under its real name; `secrets` must be found at medium or above by one of `rules`."""
    path: str
    text: str
    secrets: list[str] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)
    quiet: list[str] = field(default_factory=list)  # values that must not be found at medium


def cases() -> dict[str, Case]:
    c: dict[str, Case] = {}

    # --- FTP/SFTP clients and editors -------------------------------------------------------------
    pw = token(16)
    enc = base64.b64encode(pw.encode()).decode()
    c["filezilla-recentservers"] = Case("FileZilla/recentservers.xml", f'''<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<FileZilla3 version="3.66.4" platform="windows">
\t<RecentServers>
\t\t<Server>
\t\t\t<Host>ftp.shop-{hexstr(4)}.example</Host>
\t\t\t<Port>21</Port>
\t\t\t<Protocol>0</Protocol>
\t\t\t<Type>0</Type>
\t\t\t<User>webmaster</User>
\t\t\t<Pass encoding="base64">{enc}</Pass>
\t\t\t<Logontype>1</Logontype>
\t\t\t<PasvMode>MODE_DEFAULT</PasvMode>
\t\t\t<EncodingType>Auto</EncodingType>
\t\t\t<BypassProxy>0</BypassProxy>
\t\t</Server>
\t</RecentServers>
</FileZilla3>
''', [enc], {"filezilla-saved-password"})
    pw = token(14)
    c["filezilla-sitemanager-plain"] = Case("FileZilla/sitemanager.xml", f'''<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<FileZilla3>
    <Servers>
        <Server>
            <Host>files.example.org</Host>
            <Port>22</Port>
            <Protocol>1</Protocol>
            <Type>0</Type>
            <User>deploy</User>
            <Pass>{pw}</Pass>
            <Logontype>1</Logontype>
            <Name>staging</Name>
        </Server>
    </Servers>
</FileZilla3>
''', [pw], {"filezilla-saved-password"})
    pw = token(12)
    obf = filezilla2_obfuscated(pw)
    c["filezilla2-legacy"] = Case("FileZilla/FileZilla.xml", f'''<?xml version="1.0" encoding="ISO-8859-1"?>
<FileZilla>
<Sites>
<Site Name="shop" Host="ftp.shop.example" Port="21" User="web" Account="" RemoteDir="" LocalDir="" Pass="{obf}"
 Logontype="1" FWBypass="0" DontSavePass="0" ServerType="0" PasvMode="0" TimeZoneOffset="0" Comments="" UTF8="0"/>
</Sites>
</FileZilla>
''', [obf], {"filezilla-saved-password"})
    md5 = hexstr(32)
    c["filezilla-server"] = Case("FileZilla Server/FileZilla Server.xml", f'''<FileZillaServer>
    <Users>
        <User Name="upload">
            <Option Name="Pass">{md5}</Option>
            <Option Name="Group"></Option>
            <Option Name="Bypass server userlimit">0</Option>
            <Option Name="Enabled">1</Option>
            <Permissions>
                <Permission Dir="D:\\ftp\\upload">
                    <Option Name="FileRead">1</Option>
                </Permission>
            </Permissions>
        </User>
    </Users>
</FileZillaServer>
''', [md5], {"filezilla-saved-password"})
    sealed = b64(48)
    c["filezilla-master-password"] = Case("FileZilla/sitemanager.xml", f'''<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<FileZilla3 version="3.66.4" platform="*nix">
    <Servers>
        <Server>
            <Host>files.example.org</Host>
            <Port>22</Port>
            <Protocol>1</Protocol>
            <User>deploy</User>
            <Pass encoding="crypt" pubkey="{b64(64)}">{sealed}</Pass>
            <Logontype>1</Logontype>
        </Server>
    </Servers>
</FileZilla3>
''', quiet=[sealed])
    pw = token(18)
    c["atom-remote-ftp"] = Case(".ftpconfig", json.dumps({
        "protocol": "ftp", "host": "ftp.example.net", "port": 21, "user": "site-upload", "pass": pw,
        "promptForPass": False, "remote": "/public_html", "secure": False, "connTimeout": 10000,
        "pasvTimeout": 10000, "keepalive": 10000, "watch": [], "watchTimeout": 500}, indent=4) + "\n",
        [pw], {"sftp-client-config-password"})
    pw = token(18)
    c["atom-remote-ftp-sftp"] = Case("site/.ftpconfig", json.dumps({
        "protocol": "sftp", "host": "sftp.example.net", "port": 22, "user": "deploy", "pass": "",
        "password": pw, "promptForPass": False, "remote": "/srv/www", "agent": "", "privatekey": "",
        "passphrase": "", "hosthash": "", "ignorehost": True, "connTimeout": 10000, "keepalive": 10000}, indent=4) + "\n",
        [pw], {"sftp-client-config-password"})
    pw = token(16)
    c["sublime-sftp"] = Case("sftp-config.json", f'''{{
    // The tab key will cycle through the settings when first created
    // Visit https://codexns.io/products/sftp_for_subime/settings for help

    // sftp, ftp or ftps
    "type": "sftp",

    "save_before_upload": true,
    "upload_on_save": false,
    "sync_down_on_open": false,
    "sync_skip_deletes": false,
    "sync_same_age": true,
    "confirm_downloads": false,
    "confirm_sync": true,
    "confirm_overwrite_newer": false,

    "host": "web01.example.com",
    "user": "www-data",
    "password": "{pw}",
    //"port": "22",

    "remote_path": "/var/www/site/",
    "ignore_regexes": [
        "\\\\.sublime-(project|workspace)", "sftp-config(-alt\\\\d?)?\\\\.json",
        "sftp-settings\\\\.json", "/venv/", "\\\\.svn/", "\\\\.hg/", "\\\\.git/"
    ],
    //"file_permissions": "664",
    //"dir_permissions": "775",

    "connect_timeout": 30,
    //"keepalive": 120,
    //"ftp_passive_mode": true,
    //"ssh_key_file": "~/.ssh/id_rsa",
    //"sftp_flags": ["-F", "/path/to/ssh_config"],
}}
''', [pw], {"sftp-client-config-password"})
    pw = token(16)
    c["vscode-sftp"] = Case(".vscode/sftp.json", json.dumps({
        "name": "Production", "host": "203.0.113.17", "protocol": "sftp", "port": 22, "username": "deploy",
        "password": pw, "remotePath": "/home/deploy/app", "uploadOnSave": True,
        "ignore": [".vscode", ".git", ".DS_Store"]}, indent=4) + "\n", [pw], {"sftp-client-config-password"})
    pw = token(16)
    c["atom-remote-sync"] = Case(".remote-sync.json", json.dumps({
        "transport": "ftp", "hostname": "ftp.example.org", "port": 21, "username": "upload", "password": pw,
        "target": "/htdocs", "ignore": [".remote-sync.json", ".git/**"], "uploadOnSave": True}, indent=2) + "\n",
        [pw], {"sftp-client-config-password"})
    pw = token(12)
    obf = jetbrains_obfuscated(pw)
    c["jetbrains-webservers"] = Case(".idea/WebServers.xml", f'''<?xml version="1.0" encoding="UTF-8"?>
<project version="4">
  <component name="WebServers">
    <option name="servers">
      <webServer id="{uuid4()}" name="production" url="https://www.example.com">
        <fileTransfer host="ftp.example.com" port="21" rootFolder="/public_html" privateKey="" passphrase=""
                      username="deploy" password="{obf}">
          <advancedOptions>
            <advancedOptions dataProtectionLevelForFTPS="Private" passiveMode="true" shareSSLContext="true" />
          </advancedOptions>
          <option name="port" value="21" />
        </fileTransfer>
      </webServer>
    </option>
  </component>
</project>
''', [obf], {"jetbrains-webservers-password"})
    user, host, pw = "deploy", "sftp.example.net", token(14)
    obf = winscp_obfuscated(pw, user, host)
    c["winscp-ini"] = Case("WinSCP.ini", f'''[Configuration\\Interface]
RandomSeedFile=%APPDATA%\\winscp.rnd
[Sessions\\{user}@{host}]
HostName={host}
UserName={user}
Password={obf}
FSProtocol=2
LocalDirectory=C:%5CUsers%5Cdev%5CDocuments
RemoteDirectory=/var/www
''', [obf], {"winscp-session-password"})
    pw = token(16)
    c["esmtprc"] = Case(".esmtprc", f'''hostname = smtp.example.com:587
username = "alerts@example.com"
password = "{pw}"
starttls = required
''', [pw], {"esmtprc-password"})
    pw = token(16)
    c["msmtprc"] = Case(".msmtprc", f'''defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        ~/.msmtp.log

account        work
host           smtp.example.com
port           587
from           dev@example.com
user           dev@example.com
password       {pw}

account        personal
host           smtp.example.org
from           me@example.org
user           me@example.org
passwordeval   "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-personal.gpg"

account default : work
''', [pw], {"msmtprc-password"})
    pw, pw2 = token(16), token(15)
    c["muttrc"] = Case(".muttrc", f'''set realname = "Dev Example"
set from = "dev@example.com"
set imap_user = "dev@example.com"
set imap_pass = "{pw}"
set smtp_url = "smtp://dev@example.com@smtp.example.com:587/"
set smtp_pass = '{pw2}'
set folder = "imaps://imap.example.com:993"
set spoolfile = "+INBOX"
set ssl_force_tls = yes
''', [pw, pw2], {"password-assignment-quoted"})
    pw = token(14)
    c["fetchmailrc"] = Case(".fetchmailrc", f'''set daemon 600
set logfile ~/.fetchmail.log
poll pop.example.com protocol pop3 port 995
    user "dev@example.com" password "{pw}" is dev here
    ssl
    keep
''', [pw], {"fetchmailrc-password"})

    # --- cloud and dev CLIs ------------------------------------------------------------------------
    akid, sk = "AKIA" + token(16, string.ascii_uppercase + "234567"), token(40, ALNUM + "/+")
    c["s3cmd"] = Case(".s3cfg", f'''[default]
access_key = {akid}
access_token =
add_encoding_exts =
bucket_location = US
default_mime_type = binary/octet-stream
gpg_command = /usr/bin/gpg
gpg_passphrase =
host_base = s3.amazonaws.com
host_bucket = %(bucket)s.s3.amazonaws.com
secret_key = {sk}
signature_v2 = False
use_https = True
''', [sk], {"s3cmd-secret-key", "aws-secret-access-key"})
    tok = hexstr(40)
    c["hub"] = Case(".config/hub", f'''github.com:
- user: dev-example
  oauth_token: {tok}
  protocol: https
''', [tok], {"hub-oauth-token", "generic-hex-secret-assignment"})
    tok = github_token("gho_")
    c["gh-hosts"] = Case(".config/gh/hosts.yml", f'''github.com:
    users:
        dev-example:
            oauth_token: {tok}
    git_protocol: https
    oauth_token: {tok}
    user: dev-example
''', [tok], {"github-oauth-token"})
    tok = hexstr(64)
    c["tugboat"] = Case(".tugboat", f'''---
authentication:
  access_token: {tok}
ssh:
  ssh_user: root
  ssh_key_path: ~/.ssh/id_rsa
  ssh_port: '22'
defaults:
  region: nyc3
  image: ubuntu-22-04-x64
  size: s-1vcpu-1gb
  ssh_key: ''
  private_networking: 'false'
  backups_enabled: 'false'
''', [tok], {"digitalocean-legacy-access-token", "generic-hex-secret-assignment"})
    tok = hexstr(64)
    c["doctl-legacy"] = Case(".config/doctl/config.yaml", f'''access-token: {tok}
auth-contexts:
  default: {tok}
context: default
output: text
''', [tok], {"digitalocean-legacy-access-token", "generic-hex-secret-assignment"})
    key = uuid4()
    c["heroku-netrc"] = Case(".netrc", f'''machine api.heroku.com
  login dev@example.com
  password {key}
machine git.heroku.com
  login dev@example.com
  password {key}
''', [key], {"net-netrc-password"})
    auth = base64.b64encode(f"ci-bot:{token(16)}".encode()).decode()
    c["dockercfg"] = Case(".dockercfg", json.dumps({
        "https://index.docker.io/v1/": {"auth": auth, "email": "ci@example.com"},
        "registry.example.com": {"auth": "", "email": ""}}) + "\n", [auth], {"docker-dockercfg-auth"})
    secret, refresh = token(24, ALNUM + "-_"), "1//0" + token(98, ALNUM + "-_")
    c["gcloud-adc"] = Case(".config/gcloud/application_default_credentials.json", json.dumps({
        "account": "",
        "client_id": f"{rnd.randbelow(10**12):012d}-{token(32, string.ascii_lowercase + string.digits)}.apps.googleusercontent.com",
        "client_secret": secret, "quota_project_id": "proj-example", "refresh_token": refresh,
        "type": "authorized_user", "universe_domain": "googleapis.com"}, indent=2) + "\n",
        [refresh], {"gcp-application-default-credentials", "gcp-oauth-refresh-token"})
    sk = token(40, ALNUM + "/+")
    gsk = token(40, ALNUM + "/+")
    c["boto"] = Case(".boto", f'''[Credentials]
aws_access_key_id = AKIA{token(16, string.ascii_uppercase + "234567")}
aws_secret_access_key = {sk}
gs_access_key_id = GOOG{token(20, string.ascii_uppercase + string.digits)}
gs_secret_access_key = {gsk}

[Boto]
https_validate_certificates = True

[GSUtil]
default_project_id = proj-example
''', [sk, gsk], {"aws-secret-access-key", "boto-secret-access-key"})
    secure = b64(256)
    c["travis-secure"] = Case(".travis.yml", f'''language: python
python: ["3.12"]
env:
  global:
    - secure: "{secure}"
deploy:
  provider: pypi
  user: __token__
  password:
    secure: "{b64(256)}"
''', quiet=[secure])

    # --- databases and servers ---------------------------------------------------------------------
    pw = token(16)
    c["robomongo"] = Case(".3T/robo-3t/1.4.4/robo3t.json", f'''{{
    "autoExpand" : true,
    "connections" : [
        {{
            "configVersion" : 2,
            "connectionName" : "prod-replica",
            "credentials" : [
                {{
                    "databaseName" : "admin",
                    "enabled" : true,
                    "mechanism" : "SCRAM-SHA-1",
                    "userName" : "admin",
                    "userPassword" : "{pw}"
                }}
            ],
            "serverHost" : "mongo.example.internal",
            "serverPort" : 27017,
            "ssh" : {{
                "askForPassword" : false,
                "enabled" : false,
                "host" : "",
                "method" : "password",
                "passphrase" : "",
                "port" : 22,
                "privateKeyFile" : "",
                "publicKeyFile" : "",
                "userName" : "",
                "userPassword" : ""
            }}
        }}
    ]
}}
''', [pw], {"password-assignment-quoted"})
    pw = token(16)
    c["dbeaver-data-sources"] = Case(".dbeaver/data-sources.json", json.dumps({
        "folders": {}, "connections": {"postgres-jdbc-" + hexstr(11): {
            "provider": "postgresql", "driver": "postgres-jdbc", "name": "billing (prod)", "save-password": True,
            "configuration": {"host": "pg.example.internal", "port": "5432", "database": "billing",
                              "url": "jdbc:postgresql://pg.example.internal:5432/billing", "user": "billing_ro",
                              "password": pw, "type": "prod", "auth-model": "native"}}}}, indent="\t") + "\n",
        [pw], {"password-assignment-quoted"})
    pw = token(16)
    c["phpmyadmin"] = Case("phpmyadmin/config.inc.php", f'''<?php
declare(strict_types=1);

$cfg['blowfish_secret'] = '{token(32)}';

$i = 0;
$i++;
$cfg['Servers'][$i]['auth_type'] = 'config';
$cfg['Servers'][$i]['host'] = 'localhost';
$cfg['Servers'][$i]['user'] = 'root';
$cfg['Servers'][$i]['password'] = '{pw}';
$cfg['Servers'][$i]['compress'] = false;
$cfg['Servers'][$i]['AllowNoPassword'] = false;

$cfg['UploadDir'] = '';
$cfg['SaveDir'] = '';
''', [pw], {"phpmyadmin-config-password"})
    pw, admin = token(12), token(14)
    c["ventrilo"] = Case("ventrilo_srv.ini", f'''[Server]
Name=Guild Voice
Phonetic=Guild Voice
Comment=
Auth=1
Duplicates=1
AdminPassword={admin}
Password={pw}
SendBuffer=0
RecvBuffer=0
Diag=0
LogonTimeout=5
CloseStd=1
TimeStamp=0
PingRate=10
ExtraBuffer=0
ChanWidth=0
ChanDepth=0
ChanClients=0
DisableQuit=0
VoiceCodec=0
VoiceFormat=1
SilentLobby=0
AutoKick=0
''', [pw, admin], {"password-assignment-unquoted", "ventrilo-server-password"})
    h1 = "$1$" + crypt(8) + "$" + crypt(22)
    h6 = "$6$" + crypt(16) + "$" + crypt(86)
    c["proftpd-passwd"] = Case("ftpd.passwd", f'''webupload:{h1}:2001:2001::/srv/ftp/webupload:/bin/false
backup:{h6}:2002:2002:nightly backup:/srv/ftp/backup:/bin/false
''', [h1, h6], {"password-hash-md5crypt", "password-hash-sha-crypt", "unix-passwd-file-hash"})
    hy = "$y$j9T$" + crypt(22) + "$" + crypt(43)
    h6 = "$6$" + crypt(16) + "$" + crypt(86)
    hd = crypt(13)
    c["etc-shadow"] = Case("etc/shadow", f'''root:{hy}:19876:0:99999:7:::
daemon:*:19500:0:99999:7:::
bin:*:19500:0:99999:7:::
sys:*:19500:0:99999:7:::
sshd:!:19500::::::
ops:{h6}:19877:0:99999:7:::
legacy:{hd}:16000:0:99999:7:::
nobody:!*:19500:0:99999:7:::
''', [hy, h6, hd], {"password-hash-yescrypt", "password-hash-sha-crypt", "unix-passwd-file-hash"})
    pw = token(16)
    c["my-cnf"] = Case(".my.cnf", f'''[mysql]
prompt = "\\\\u@\\\\h [\\\\d]> "

[client]
user=root
password={pw}
host=127.0.0.1
''', [pw], {"password-assignment-unquoted", "mysql-option-file-password"})
    enc_secret, plain = "{AQAAABAAAAAQ" + b64(48) + "}", token(16)
    c["jenkins-credentials"] = Case("jenkins/credentials.xml", f'''<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin="credentials@1319.v7eb_51b_3a_c97b_">
  <domainCredentialsMap class="hudson.util.CopyOnWriteMap$Hash">
    <entry>
      <com.cloudbees.plugins.credentials.domains.Domain>
        <specifications/>
      </com.cloudbees.plugins.credentials.domains.Domain>
      <java.util.concurrent.CopyOnWriteArrayList>
        <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>nexus-deploy</id>
          <description>nexus</description>
          <username>deploy</username>
          <password>{enc_secret}</password>
          <usernameSecret>false</usernameSecret>
        </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
        <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>legacy-ftp</id>
          <description>imported by hand</description>
          <username>ftp</username>
          <password>{plain}</password>
        </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
      </java.util.concurrent.CopyOnWriteArrayList>
    </entry>
  </domainCredentialsMap>
</com.cloudbees.plugins.credentials.SystemCredentialsProvider>
''', [plain], {"xml-password-element"}, quiet=[enc_secret])

    rp, ma = token(24), token(20)
    c["redis-conf"] = Case("redis/redis.conf", f'''bind 127.0.0.1 -::1
protected-mode yes
port 6379
# requirepass foobared
requirepass {rp}
masterauth {ma}
appendonly yes
''', [rp, ma], {"redis-requirepass"})
    rp = token(20)
    c["compose-redis"] = Case("docker-compose.yml", f'''services:
  cache:
    image: redis:7-alpine
    command: redis-server --appendonly yes --requirepass {rp}
    ports: ["6379:6379"]
''', [rp], {"redis-requirepass"})
    ra = token(18)
    c["rediscli-history"] = Case(".rediscli_history", f"info\nAUTH {ra}\nkeys *\nget session:42\n", [ra], {"rediscli-history-auth"})
    ma, mc = token(16), token(16)
    c["mongo-dbshell"] = Case(".dbshell", f'''use admin
db.auth("admin", "{ma}")
show dbs
db.changeUserPassword('reporting', '{mc}')
''', [ma, mc], {"mongo-shell-password"})

    # --- chat and messaging clients ----------------------------------------------------------------
    pw, sasl = token(16), token(18)
    c["irssi"] = Case(".irssi/config", f'''servers = (
  {{
    address = "irc.example.net";
    chatnet = "ExampleNet";
    port = "6697";
    password = "{pw}";
    use_tls = "yes";
    tls_verify = "yes";
    autoconnect = "yes";
  }}
);

chatnets = {{
  ExampleNet = {{
    type = "IRC";
    sasl_mechanism = "PLAIN";
    sasl_username = "devnick";
    sasl_password = "{sasl}";
  }};
}};

settings = {{
  core = {{ real_name = "Dev"; user_name = "devnick"; nick = "devnick"; }};
}};
''', [pw, sasl], {"password-assignment-quoted"})
    pw = token(16)
    c["pidgin"] = Case(".purple/accounts.xml", f'''<?xml version='1.0' encoding='UTF-8' ?>

<account version='1.0'>
	<account>
		<protocol>prpl-jabber</protocol>
		<name>dev@xmpp.example.org/laptop</name>
		<password>{pw}</password>
		<statuses>
			<status type='available' name='Available' active='true'>
				<attributes/>
			</status>
		</statuses>
		<settings ui='gtk-gaim'>
			<setting name='auto-login' type='bool'>1</setting>
		</settings>
	</account>
</account>
''', [pw], {"xml-password-element"})
    pw, nickserv = token(14), token(15)
    c["hexchat"] = Case(".config/hexchat/servlist.conf", f'''v=2.16.2

N=Libera.Chat
I=devnick
i=devnick_
U=devnick
P={pw}
L=6
E=UTF-8 (Unicode)
F=23
D=0
S=irc.libera.chat
S=irc.eu.libera.chat

N=ExampleNet
B={nickserv}
E=UTF-8 (Unicode)
F=19
D=0
S=irc.example.net/6697
''', [pw, nickserv], {"hexchat-servlist-password"})
    eu, ep = "MDIEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECA" + b64(12), "MEIEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECA" + b64(36)
    c["firefox-logins"] = Case(".mozilla/firefox/abcd1234.default-release/logins.json", json.dumps({
        "nextId": 3, "logins": [{"id": 1, "hostname": "https://intranet.example.com", "httpRealm": None,
                                 "formSubmitURL": "https://intranet.example.com", "usernameField": "user",
                                 "passwordField": "pass", "encryptedUsername": eu, "encryptedPassword": ep,
                                 "guid": "{" + uuid4() + "}", "encType": 1, "timeCreated": 1700000000000,
                                 "timeLastUsed": 1700000000000, "timePasswordChanged": 1700000000000, "timesUsed": 3}],
        "potentiallyVulnerablePasswords": [], "dismissedBreachAlertsByLoginGUID": {}, "version": 3}) + "\n",
        quiet=[eu, ep])

    # --- shell history -----------------------------------------------------------------------------
    my, myadm, ssh, cu, aws, pg, ht, ossl = (token(14) for _ in range(8))
    c["bash-history"] = Case(".bash_history", f'''ls -la
cd /srv/app
mysql -u root -p{my} appdb
mysqladmin -u root -p'{myadm}' status
sshpass -p {ssh} ssh ops@10.0.4.12
curl -u admin:{cu} https://jenkins.example.internal/api/json
export AWS_SECRET_ACCESS_KEY={aws + token(26, ALNUM + "/+")}
PGPASSWORD={pg} psql -h db.example.internal -U app app
htpasswd -b /etc/nginx/.htpasswd admin {ht}
openssl pkcs12 -export -in cert.pem -inkey key.pem -out bundle.p12 -passout pass:{ossl}
git status
''', [my, myadm, ssh, cu, pg, ht, ossl],
        {"password-cli-short-flag", "curl-user-password", "password-assignment-unquoted", "htpasswd-batch-password",
         "openssl-pass-argument", "client-cli-password"})
    # zsh's extended history prefixes each line with ": <start>:<elapsed>;"
    zs, zr = token(14), token(20)
    c["zsh-history"] = Case(".zsh_history", f''': 1701900000:0;cd ~/src
: 1701900012:0;sshpass -p '{zs}' scp dump.sql backup@10.0.4.20:/backups/
: 1701900040:3;redis-cli -h cache.example.internal -a {zr} info
: 1701900050:0;git pull
''', [zs, zr], {"password-cli-short-flag", "client-cli-password"})
    az, rdp, lf, wg, ld, smb = (token(16) for _ in range(6))
    c["bash-history-clients"] = Case(".bash_history", f'''az login --service-principal -u {uuid4()} -p {az} --tenant {uuid4()}
xfreerdp /v:10.0.4.7 /u:Administrator /p:{rdp} /cert:ignore
lftp -u upload,{lf} sftp://files.example.net
wget --user=ops --http-password={wg} https://files.example.net/backup.tgz
ldapsearch -x -H ldaps://ldap.example.internal -D cn=admin,dc=example,dc=org -w {ld} -b dc=example,dc=org
smbclient //fs01/backup -U svc_backup%{smb} -c ls
''', [az, rdp, lf, wg, ld, smb], {"client-cli-password"})
    mu, mp = token(16), token(16)
    c["mysql-history"] = Case(".mysql_history", f'''_HiStOrY_V2_
show\\040databases;
CREATE\\040USER\\040'report'@'%'\\040IDENTIFIED\\040BY\\040'{mu}';
ALTER USER 'app'@'localhost' IDENTIFIED BY '{mp}';
select\\040*\\040from\\040users\\040limit\\0405;
''', [mu, mp], {"sql-password-statement"})
    pp = token(16)
    c["psql-history"] = Case(".psql_history", f'''\\dt
select count(*) from orders;
ALTER ROLE app WITH LOGIN PASSWORD '{pp}';
\\q
''', [pp], {"sql-password-statement"})
    return c


CASES = cases()


def scan(folder: Path, floor: str) -> list:
    return scan_paths([str(folder)], ScanOptions(jobs=1, show_secrets=True, min_confidence=floor)).findings


def write(folder: Path, case: Case) -> None:
    target = folder / case.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(case.text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_program_file_is_scanned_for_its_credentials(tmp_path, name):
    case = CASES[name]
    write(tmp_path, case)
    found = scan(tmp_path, "medium")
    for secret in case.secrets:
        hits = [f for f in found if f.secret and (secret in f.secret or f.secret in secret and len(f.secret) >= 8)]
        assert hits, f"{name}: a secret of {len(secret)} characters was not found at medium"
        assert any(f.rule_id in case.rules for f in hits), (name, sorted({f.rule_id for f in hits}))
    for value in case.quiet:
        loud = [f.rule_id for f in found if f.secret and (f.secret in value or value in f.secret)]
        assert not loud, f"{name}: an encrypted value or reference was reported at medium by {loud}"


def test_a_jenkins_encrypted_secret_is_at_most_low(tmp_path):
    write(tmp_path, CASES["jenkins-credentials"])
    found = scan(tmp_path, "low")
    enc = CASES["jenkins-credentials"].quiet[0]
    assert all(f.confidence == "low" for f in found if f.secret and f.secret in enc)


def test_references_and_encrypted_values_in_program_files_are_quiet(tmp_path):
    """The reference forms each program documents, beside nothing real: no finding at medium."""
    files = {
        ".ftpconfig": '{"protocol": "ftp", "host": "ftp.example.net", "user": "u", "pass": "${FTP_PASS}"}\n',
        "sftp-config.json": '{"type": "sftp", "host": "h", "user": "u", "password": "%SFTP_PASSWORD%"}\n',
        ".msmtprc": 'account work\nhost smtp.example.com\nuser dev\npasswordeval "pass show mail/work"\n',
        ".muttrc": 'set imap_pass = "`pass show mail/imap`"\nset smtp_pass = $my_pass\n',
        ".s3cfg": "[default]\naccess_key = \nsecret_key = \ngpg_passphrase = \n",
        "phpmyadmin/config.inc.php": "<?php\n$cfg['Servers'][$i]['password'] = getenv('PMA_PASSWORD');\n"
                                     "$cfg['Servers'][$i]['AllowNoPassword'] = false;\n",
        "etc/shadow": "root:*:19500:0:99999:7:::\nsshd:!:19500::::::\nops:!$6$locked:19877:0:99999:7:::\nnobody:!!:19500::::::\n",
        ".config/hexchat/servlist.conf": "v=2.16.2\n\nN=Libera.Chat\nI=devnick\nE=UTF-8 (Unicode)\nF=23\nD=0\nS=irc.libera.chat\n",
        ".purple/accounts.xml": "<account version='1.0'><account><protocol>prpl-irc</protocol>"
                                "<name>nick@irc.libera.chat</name><password></password></account></account>\n",
        "WinSCP.ini": "[Sessions\\deploy@host]\nHostName=host\nUserName=deploy\nPassword=\nFSProtocol=2\n",
        ".bash_history": "mysql -u root -p appdb\nhtpasswd -B /etc/nginx/.htpasswd admin\n"
                         "openssl rsa -in k.pem -passin env:KEY_PASS -out k2.pem\n"
                         "openssl req -new -key k.pem -passin file:/run/secrets/pass\n",
        ".dockercfg": '{"https://index.docker.io/v1/": {"auth": "", "email": ""}}\n',
        "jenkins/credentials.xml": "<password>{AQAAABAAAAAQ" + b64(48) + "}</password>\n<password>${NEXUS_PASSWORD}</password>\n",
        "ventrilo_srv.ini": "[Server]\nName=Voice\nAdminPassword=\nPassword=\nAuth=0\n",
        ".mysql_history": "_HiStOrY_V2_\nALTER\\040USER\\040'app'@'%'\\040IDENTIFIED\\040BY\\040'********';\n"
                          "CREATE USER x IDENTIFIED WITH auth_socket;\n",
    }
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    loud = [(f.rule_id, f.locations[0].path if f.locations else "") for f in scan(tmp_path, "medium")]
    assert not loud, loud


def test_dbeaver_encrypted_credentials_are_not_a_finding(tmp_path):
    """DBeaver's credentials-config.json is AES-encrypted JSON (binary); beside it data-sources.json
    names the connection without a password. Neither is a finding at medium."""
    folder = tmp_path / ".local/share/DBeaverData/workspace6/General/.dbeaver"
    folder.mkdir(parents=True)
    (folder / "credentials-config.json").write_bytes(rnd.token_bytes(16) + rnd.token_bytes(96))
    (folder / "data-sources.json").write_text(json.dumps({"connections": {"mysql8-" + hexstr(11): {
        "provider": "mysql", "driver": "mysql8", "name": "shop", "save-password": True,
        "configuration": {"host": "localhost", "port": "3306", "database": "shop", "type": "dev"}}}}, indent="\t"))
    assert scan(tmp_path, "medium") == []
