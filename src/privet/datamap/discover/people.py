"""Person names (Chinese and Latin script) and postal addresses (Chinese and Latin), recognised by shape.

A Chinese name is two to four Han characters starting with a common surname (single or compound) and not
ending like a place (市, 区, 路...). A Latin name is two to four capitalised words whose first word is a common
given name or whose last word is a common surname (so "Lake David" or "Blue Widget" are not names). A Chinese
address has an administrative part (省/市/区/县...) followed by a street part (路/街/道...) and a number; a Latin
address starts with a building number and a street, or ends with a city, a state and a postal code.
"""

from __future__ import annotations

import re

_SURNAMES_CN = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔"
    "伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙"
    "鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘"
    "满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜"
    "羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡"
    "富尧闭由萧傅阎赖洪钮")
_COMPOUND_SURNAMES = frozenset(("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
                                "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "轩辕", "澹台"))
# A two-character value is a name only when its second character is not one that mostly ends ordinary words
# (信息, 方面, 国际, 那个...).
_WORD_CHARS = frozenset("面何多上末级额油色湖度功为本序间候化件章全装用该家际息是元于理过个们的了和在有这来去说要会能可以下中"
                        "里外前后头子儿么样点些种次回年月日时分号期门口体容量力气场业务务产品价格式型类别部市场区县省路街"
                        "际源信息资料据数工作学习问题情况方法系统网络服务公司单位员客户置括因内持自看戏介决划谢目名称地址电话码机器设备动态")
_NOT_NAME_ENDINGS = frozenset("市县区省镇村路街乡州司店厂部局院校园馆站场所队组室厅处科器机品类型号码")

CHINESE_NAME_SHAPE = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{1,8})?")


def chinese_name(value: str) -> bool:
    """Two to four Han characters led by a common surname, not ending like a place or an organisation."""
    if value[-1] in _NOT_NAME_ENDINGS:
        return False
    if value[:2] in _COMPOUND_SURNAMES:
        return len(value) in (3, 4)
    if len(value) == 2:
        return value[0] in _SURNAMES_CN and value[1] not in _WORD_CHARS
    return value[0] in _SURNAMES_CN and len(value) == 3


_GIVEN = frozenset(["james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas", "charles", "christopher", "daniel", "matthew", "anthony", "mark", "donald", "steven", "paul", "andrew", "joshua", "kenneth", "kevin", "brian", "george", "timothy", "ronald", "edward", "jason", "jeffrey", "ryan", "jacob", "gary", "nicholas", "eric", "jonathan", "stephen", "larry", "justin", "scott", "brandon", "benjamin", "samuel", "gregory", "alexander", "frank", "patrick", "raymond", "jack", "dennis", "jerry", "tyler", "aaron", "jose", "adam", "nathan", "henry", "douglas", "zachary", "peter", "kyle", "ethan", "walter", "noah", "jeremy", "christian", "keith", "roger", "terry", "gerald", "harold", "sean", "austin", "carl", "arthur", "lawrence", "dylan", "jesse", "jordan", "bryan", "billy", "joe", "bruce", "gabriel", "logan", "albert", "willie", "alan", "juan", "wayne", "elijah", "randy", "roy", "vincent", "ralph", "eugene", "russell", "bobby", "mason", "philip", "louis", "victor", "ricardo", "colton", "collin", "brent", "travis", "shawn", "chad", "derek", "cody", "luis", "carlos", "manuel", "mario", "martin", "curtis", "allen", "craig", "todd", "troy", "marcus", "dustin", "alex", "jesus", "antonio", "miguel", "jorge", "fernando", "edwin", "howard", "shane", "danny", "calvin", "johnny", "bradley", "lucas", "evan", "ian", "caleb", "luke", "isaac", "jared", "mitchell", "erik", "cameron", "spencer", "trevor", "garrett", "devin", "marc", "dale", "glenn", "phillip", "leonard", "jimmy", "stanley", "jeffery", "clarence", "earl", "francis", "tony", "ernest", "chris", "gordon", "dean", "melvin", "jon", "seth", "hunter", "blake", "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen", "lisa", "nancy", "betty", "margaret", "sandra", "ashley", "kimberly", "emily", "donna", "michelle", "carol", "amanda", "dorothy", "melissa", "deborah", "stephanie", "rebecca", "sharon", "laura", "cynthia", "kathleen", "amy", "angela", "shirley", "anna", "brenda", "pamela", "emma", "nicole", "helen", "samantha", "katherine", "christine", "debra", "rachel", "carolyn", "janet", "catherine", "maria", "heather", "diane", "ruth", "julie", "olivia", "joyce", "virginia", "victoria", "kelly", "lauren", "christina", "joan", "evelyn", "judith", "megan", "andrea", "cheryl", "hannah", "jacqueline", "martha", "gloria", "teresa", "ann", "sara", "madison", "frances", "kathryn", "janice", "jean", "abigail", "alice", "judy", "sophia", "grace", "denise", "amber", "doris", "marilyn", "danielle", "beverly", "isabella", "theresa", "diana", "natalie", "brittany", "charlotte", "marie", "kayla", "alexis", "lori", "tiffany", "crystal", "erin", "tina", "wendy", "april", "jamie", "holly", "leslie", "courtney", "allison", "monica", "erica", "vanessa", "tracy", "stacy", "kristen", "kristin", "dawn", "bethany", "kathy", "jill", "tammy", "veronica", "valerie", "colleen", "alicia", "caroline", "rhonda", "regina", "yolanda", "yvonne", "whitney", "paula", "brianna", "destiny", "chelsea", "morgan", "jasmine", "haley", "taylor", "sydney", "lindsey", "lindsay", "kara", "kristina", "tara", "meghan", "melanie", "krista", "robin", "cindy", "sherry", "connie", "rita", "anne", "jane", "joanne", "shannon", "sheila", "renee", "heidi", "sabrina", "brooke", "miranda", "kaitlyn", "katie", "kelsey", "mallory", "caitlin", "molly", "alyssa", "mckenzie", "shelby", "jenna", "jacob", "logan", "dakota", "tanya", "gina", "peggy", "jo", "lynn", "kim", "wei", "li", "ming", "hui", "yan", "jun", "hong", "xiao", "mei", "lin", "ling", "desiree", "natasha", "darlene", "cathy", "carmen", "tamara", "stacey", "misty", "sonia", "latoya", "felicia", "gabrielle", "ebony", "jillian", "adrienne", "derrick", "darren", "wesley", "terrence", "bernard", "leroy", "clifford", "marvin", "glen", "jay", "jeremiah", "nathaniel", "dominic", "omar", "ricky", "kristopher", "joel", "casey", "corey", "tommy", "micheal", "maurice", "alejandro", "roberto", "ruben", "reginald", "julian", "lance", "max", "maxwell", "frederick", "ronnie", "lee", "vernon", "harry", "darryl", "dwayne", "kurt", "andre", "jaime", "kirk", "gilbert", "joey", "johnathan", "rodney", "mathew", "alexandra", "angelica", "audrey", "bonnie", "brandy", "candice", "cassandra", "claire", "clara", "daisy", "deanna", "dana", "debbie", "eileen", "elaine", "ellen", "faith", "gail", "hailey", "jaclyn", "jocelyn", "jodi", "joanna", "kari", "katrina", "kendra", "krystal", "leah", "lorraine", "lucy", "marissa", "melinda", "meredith", "mia", "nina", "norma", "penny", "priscilla", "raven", "rose", "ruby", "sally", "savannah", "shelly", "sierra", "stephanie", "summer", "suzanne", "sylvia", "tasha", "traci", "vickie", "wanda", "zoe", "ariana", "aubrey", "avery", "brittney", "cristina", "jade", "jeanette"])

_SURNAMES = frozenset(["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts", "gomez", "phillips", "evans", "turner", "diaz", "parker", "cruz", "edwards", "collins", "reyes", "stewart", "morris", "morales", "murphy", "cook", "rogers", "gutierrez", "ortiz", "morgan", "cooper", "peterson", "bailey", "reed", "kelly", "howard", "ramos", "kim", "cox", "ward", "richardson", "watson", "brooks", "chavez", "wood", "james", "bennett", "gray", "mendoza", "ruiz", "hughes", "price", "alvarez", "castillo", "sanders", "patel", "myers", "long", "ross", "foster", "jimenez", "powell", "jenkins", "perry", "russell", "sullivan", "bell", "coleman", "butler", "henderson", "barnes", "gonzales", "fisher", "vasquez", "simmons", "romero", "jordan", "patterson", "alexander", "hamilton", "graham", "reynolds", "griffin", "wallace", "moreno", "west", "cole", "hayes", "bryant", "herrera", "gibson", "ellis", "tran", "medina", "aguilar", "stevens", "murray", "ford", "castro", "marshall", "owens", "harrison", "fernandez", "mcdonald", "woods", "washington", "kennedy", "wells", "vargas", "henry", "chen", "freeman", "webb", "tucker", "guzman", "burns", "crawford", "olson", "simpson", "porter", "hunter", "gordon", "mendez", "silva", "shaw", "snyder", "mason", "dixon", "munoz", "hunt", "hicks", "holmes", "palmer", "wagner", "black", "robertson", "boyd", "rose", "stone", "salazar", "fox", "warren", "mills", "meyer", "rice", "schmidt", "garza", "daniels", "ferguson", "nichols", "stephens", "soto", "weaver", "ryan", "gardner", "payne", "grant", "dunn", "kelley", "spencer", "hawkins", "arnold", "pierce", "vazquez", "hansen", "peters", "santos", "hart", "bradley", "knight", "elliott", "cunningham", "duncan", "armstrong", "hudson", "carroll", "lane", "riley", "andrews", "alvarado", "ray", "delgado", "berry", "perkins", "hoffman", "johnston", "matthews", "pena", "richards", "contreras", "willis", "carpenter", "lawrence", "sandoval", "guerrero", "george", "chapman", "rios", "estrada", "ortega", "watkins", "greene", "nunez", "wheeler", "valdez", "harper", "burke", "larson", "santiago", "maldonado", "morrison", "franklin", "carlson", "austin", "dominguez", "carr", "lawson", "jacobs", "obrien", "lynch", "singh", "vega", "bishop", "montgomery", "oliver", "jensen", "harvey", "williamson", "gilbert", "dean", "sims", "espinoza", "howell", "li", "wang", "zhang", "liu", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "he", "lin", "luo", "bartlett", "travis", "doyle", "frazier", "reese", "bowen", "trevino", "mccarthy", "obrien", "hardy", "mills", "green", "byrd", "bowman", "mcbride", "chavez", "hill", "peters", "gill", "allen", "donaldson", "shields", "hernandez", "barrett", "fuller", "ortega", "mccoy", "holland", "frank", "fleming", "wade", "walsh", "barber", "bush", "caldwell", "lowe", "hale", "hopkins", "horton", "love", "norris", "banks", "burton", "lucas", "marsh", "newton", "page", "schultz"])
_PREFIXES = frozenset(("mr.", "mrs.", "ms.", "miss", "dr.", "prof.", "mr", "mrs", "ms", "dr"))
_SUFFIXES = frozenset(("jr.", "sr.", "ii", "iii", "iv", "md", "dds", "phd", "dvm", "jr", "sr"))

LATIN_NAME_SHAPE = re.compile(
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.? )?[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?(?: (?:[A-Z]\.|[A-Z][a-z'’]+"
    r"(?:-[A-Z][a-z'’]+)?)){1,3}(?: (?:Jr\.|Sr\.|II|III|IV|MD|DDS|PhD|DVM))?")


def latin_name(value: str) -> bool:
    """Capitalised words led by a common given name, or ended by a common surname."""
    words = [word.lower() for word in value.split(" ")]
    if words[0] in _PREFIXES:
        words = words[1:]
    if words[-1] in _SUFFIXES:
        words = words[:-1]
    if len(words) < 2 or words[-1] in _ORGANISATION_WORDS:
        return False
    return words[0] in _GIVEN or (words[-1].split("-")[-1] in _SURNAMES and words[0] not in _PLACE_WORDS)


_ORGANISATION_WORDS = frozenset(("inc", "inc.", "ltd", "ltd.", "llc", "plc", "group", "corp", "corp.", "co.",
                                  "company", "partners", "associates", "gmbh", "sons", "bros."))
_PLACE_WORDS = frozenset(("lake", "port", "north", "south", "east", "west", "new", "fort", "mount", "saint", "st.",
                          "the", "san", "santa", "los", "las", "el", "la", "upper", "lower", "great", "little"))

CHINESE_ADDRESS_SHAPE = re.compile(r"[\u4e00-\u9fff0-9A-Za-z#\-（）() ·]{6,80}")
_CN_ADMIN = re.compile(r"(?:省|自治区|特别行政区|市|自治州|盟|地区)")
_CN_STREET = re.compile(r"(?:市|区|县|旗|镇|乡).*?(?:路|街|道|巷|弄|胡同|大街|里|村|组|小区|社区|园|大厦)")
_CN_NUMBER = re.compile(r"\d+\s*(?:号|栋|幢|座|楼|室|单元|弄|$)|[A-Za-z]座|\d{3,}|号")


def chinese_address(value: str) -> bool:
    """An administrative division, then a street or village, then a number (号/栋/座/室 or digits)."""
    admin = _CN_ADMIN.search(value, 0, 12)
    if admin is None:
        return False
    return _CN_STREET.search(value, admin.start()) is not None and _CN_NUMBER.search(value) is not None


_STREET_WORDS = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|square|sq|terrace|ter|"
    "parkway|pkwy|circle|cir|trail|trl|highway|hwy|route|plaza|alley|row|crescent|close|mews|loop|ridge|run|path|"
    "pass|point|park|port|springs?|vista|views?|walk|manor|mills?|meadows?|harbors?|heights|hills?|isle|junction|"
    "keys?|knolls?|landing|lights?|locks?|lodge|motorway|mountains?|oval|overpass|pines?|plains?|prairie|radial|"
    "ranch|rapids?|rest|roads|routes|shoals?|shores?|skyway|spurs?|squares|stations?|stravenue|stream|streets|"
    "summit|throughway|trace|track|trafficway|tunnel|turnpike|underpass|unions?|valleys?|viaduct|villages?|villes?|"
    "wells?|ways|extensions?|expressway|falls|ferry|fields?|flats?|fords?|forests?|forges?|forks?|fort|freeway|"
    "gardens?|gateway|glens?|greens?|groves?|haven|camp|canyon|cape|causeway|centers?|corners?|courses|courts|"
    "coves?|creek|crest|crossing|crossroad|curve|dale|dam|divides?|drives|estates?|bayou|beach|bend|bluffs?|"
    "bottom|branch|bridge|brooks?|burgs?|bypass|annex|arcade|cliffs?|club|common|commons|fall|island|islands|"
    "junctions|lakes?|lane|light|loaf|mall|mission|neck|orchard|parks|parkways|plaza|ramp|river|shoal|spring|"
    "stravenue|via|vista|walks|wall")
LATIN_ADDRESS_SHAPE = re.compile(r"[0-9A-Za-z][0-9A-Za-z .,'#\-/\n]{6,120}")
_LATIN_STREET = re.compile(rf"\d{{1,6}}[A-Za-z]? (?:[A-Za-z0-9.'\-]+ ){{1,5}}(?:{_STREET_WORDS})\.?\b", re.I)
_LATIN_LOCALITY = re.compile(r"[A-Z][A-Za-z .'\-]+, [A-Z]{2} \d{5}(?:-\d{4})?$|(?:APO|FPO|DPO) A[AEP] \d{5}$")
_BUILDING_NUMBER = re.compile(r"\d{1,6}[A-Za-z]? |(?:PSC|Unit|USNS|USNV|USS|USCGC) ")


def latin_address(value: str) -> bool:
    """A building number and a street, or a line ending with a city, a state and a postal code."""
    if _BUILDING_NUMBER.match(value) is None:
        return False
    return _LATIN_STREET.match(value) is not None or _LATIN_LOCALITY.search(value) is not None
