# Shared by the bench scripts (sourced, not run).

# write_section RESULTS_FILE NAME SECTION_FILE: replaces the text between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" in RESULTS_FILE with SECTION_FILE (which holds
# both markers), or appends it when the markers are missing; hand-written text elsewhere in
# the file is kept.
write_section() {
  local results=$1 name=$2 section=$3
  if [ -f "$results" ] && grep -q "<!-- $name:begin -->" "$results" && grep -q "<!-- $name:end -->" "$results"; then
    awk -v sec="$section" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
      $0 == b { while ((getline line < sec) > 0) print line; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip { print }' "$results" >"$section.new"
    cat "$section.new" >"$results"
    rm -f "$section.new"
  else
    if [ ! -f "$results" ]; then
      printf '# Cloudya benchmark results\n\nFigures are recorded by the scripts in `bench/`; see bench/README.md.\n' >"$results"
    fi
    printf '\n%s\n' "$(cat "$section")" >>"$results"
  fi
  echo
  cat "$section"
  echo
  echo "written to $results"
}
