#!/usr/bin/perl
# sa_render.pl — what SpamAssassin 4's rules see in a message, printed as
# the oracle data of spam_text_test. Usage: sa_render.pl OUTDIR MESSAGE...
# writes OUTDIR/<basename of MESSAGE>.txt for each message.
# One line per item: "B <line>" body, "R <line>" rawbody, "U <uri>" uri,
# "H <name>\t<value>" header gets ("H- name" when absent). Bytes outside
# printable ASCII, "\" and tab are written as \xHH.
use strict;
use warnings;
use Mail::SpamAssassin;

my $sa = Mail::SpamAssassin->new({
  local_tests_only => 1, dont_copy_prefs => 1, userprefs_filename => '/dev/null',
  site_rules_filename => '/nonexistent',  # stock rules: util_rb_tld from 20_aux_tlds.cf
});
$sa->init(0);
my $outdir = shift @ARGV;

sub esc {
  my $s = shift;
  utf8::encode($s) if utf8::is_utf8($s);
  $s =~ s/([^\x20-\x5b\x5d-\x7e])/sprintf("\\x%02x", ord $1)/ge;
  return $s;
}
for my $file (@ARGV) {
  open(my $fh, '<:raw', $file) or die "$file: $!";
  my $raw = do { local $/; <$fh> };
  close $fh;
  my $msg = $sa->parse($raw, 1);
  my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
  (my $base = $file) =~ s{.*/}{};
  open(my $out, '>:raw', "$outdir/$base.txt") or die "$outdir/$base.txt: $!";
  select $out;
  print "B ", esc($_), "\n" for @{$pms->get_decoded_stripped_body_text_array()};
  print "R ", esc($_), "\n" for @{$pms->get_decoded_body_text_array()};
  print "U ", esc($_), "\n" for $pms->get_uri_list();
  for my $h ('Subject', 'From', 'From:addr', 'From:name', 'From:raw', 'To', 'ToCc',
             'MESSAGEID', 'Received', 'Content-Type', 'X-Mailer', 'ALL') {
    my @harr = $pms->get($h);
    if (!@harr) { print "H- $h\n"; next; }
    my $v = join($harr[0] =~ /\n\z/ ? "" : "\n", @harr);
    print "H $h\t", esc($v), "\n";
  }
  $pms->finish(); $msg->finish();
  select STDOUT;
  close $out;
}
