"""Loads Snowflake DDL files into a local fakesnow server and prints, as one
JSON object, what was created: per database the tables, views and columns
that fakesnow's INFORMATION_SCHEMA lists, and the statements it rejected.

Only catalog DDL is run (CREATE DATABASE, SCHEMA, TABLE, VIEW; USE; ALTER;
COMMENT). Loads, stages, warehouses, roles and grants are skipped, so nothing
reaches outside the local server.

Usage: fakesnow_load.py PORT FILE [FILE ...] [--define NAME=VALUE ...]
SnowSQL variables (&{name} or &name) are replaced by their --define values,
which win, and by the "!define name=value" lines of the files read before.
"""

import json
import re
import sys

import snowflake.connector


def statements(text):
    """Splits a script at semicolons outside quotes, dropping comments."""
    current, quote, result = [], None, []
    text = re.sub(r"(?s)/\*.*?\*/", "", text)
    lines = [line for line in text.splitlines() if not line.strip().startswith("--") and not line.strip().startswith("!")]
    for character in "\n".join(lines):
        if quote:
            current.append(character)
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
            current.append(character)
        elif character == ";":
            result.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    result.append("".join(current).strip())
    return [statement for statement in result if statement]


CATALOG_DDL = re.compile(
    r"(?is)^\s*(use\s|comment\s|alter\s+(table|view|schema)\s|create\s+(or\s+replace\s+)?"
    r"(transient\s+|temporary\s+)?(database|schema|table|view)\s)"
)


def main():
    port = int(sys.argv[1])
    files, defines = [], {}
    arguments = iter(sys.argv[2:])
    for argument in arguments:
        if argument == "--define":
            name, value = next(arguments).split("=", 1)
            defines[name] = value
        else:
            files.append(argument)
    connection = snowflake.connector.connect(
        user="loader", password="loader", account="local", host="127.0.0.1", port=port, protocol="http"
    )
    cursor = connection.cursor()
    rejected, databases = [], []
    for path in files:
        text = open(path, encoding="utf-8").read()
        # SnowSQL's "!define name=value" lines set variables for later files too.
        for name, value in re.findall(r"(?m)^!define\s+(\w+)=(\S+)", text):
            defines.setdefault(name, value)
        for name, value in defines.items():
            text = re.sub(r"&\{?" + re.escape(name) + r"\}?", value, text)
        for statement in statements(text):
            if not CATALOG_DDL.match(statement):
                continue
            try:
                cursor.execute(statement)
                match = re.match(r"(?is)\s*create\s+(?:or\s+replace\s+)?database\s+(?:if\s+not\s+exists\s+)?(\w+)", statement)
                if match and match.group(1).upper() not in databases:
                    databases.append(match.group(1).upper())
            except Exception as error:  # fakesnow rejects what it does not emulate
                rejected.append([" ".join(statement.split())[:80], str(error).splitlines()[0]])
    created = {}
    for database in databases:
        counts = {}
        for view, column in [("TABLES", "tables"), ("VIEWS", "views"), ("COLUMNS", "columns")]:
            cursor.execute(
                f"select count(*) from {database}.INFORMATION_SCHEMA.{view} where table_schema <> 'INFORMATION_SCHEMA'"
            )
            counts[column] = cursor.fetchone()[0]
        created[database] = counts
    print(json.dumps({"created": created, "rejected": rejected}))


main()
